/**
 * The real process without CONFIG_FILE: a variable only a plant installation sets (GATEWAY_SECRET,
 * a non-simulator SOURCE_KIND) makes it refuse to run the demo, exit 2 and say in one line that
 * CONFIG_FILE is missing; DATABASE_URL alone still runs the demo (README, "The demo").
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../fixtures/pg.ts';
import { startSidecar, type SidecarProcess } from '../fixtures/sidecar-process.ts';

const SIDECAR_DIR = fileURLToPath(new URL('../../', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'sc-demo-guard-'));
let db: TestDatabase | undefined;
let sidecar: SidecarProcess | undefined;
after(async () => {
  await sidecar?.kill('SIGTERM');
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function run(env: Record<string, string>): {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
} {
  const base = { ...(process.env as Record<string, string>) };
  for (const k of ['CONFIG_FILE', 'GATEWAY_SECRET', 'SOURCE_KIND', 'DATABASE_URL']) delete base[k];
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SIDECAR_DIR,
    env: { ...base, PORT: '0', DATA_DIR: dataDir, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

test('GATEWAY_SECRET without CONFIG_FILE: exit 2 with one line naming CONFIG_FILE, no demo started', () => {
  const r = run({ GATEWAY_SECRET: 'a-plant-gateway-secret-0123456789abcdef0123' });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /^CONFIG_FILE is not set but GATEWAY_SECRET is: refusing to start the demo/);
  assert.doesNotMatch(r.stderr, /a-plant-gateway-secret/, 'the secret itself is not printed');
  assert.doesNotMatch(r.stdout, /listening/);
});

test('a real SOURCE_KIND without CONFIG_FILE is refused the same way; SOURCE_KIND=simulator is the demo', () => {
  const r = run({ SOURCE_KIND: 'opcua' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim(), /^CONFIG_FILE is not set but SOURCE_KIND=opcua is: .*set CONFIG_FILE/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('DATABASE_URL alone without CONFIG_FILE still runs the demo', { timeout: 240_000 }, async () => {
  db = await createTestDatabase('sc_demo_guard');
  sidecar = await startSidecar({
    env: { DATA_DIR: dataDir, DATABASE_URL: db.url, SOURCE_KIND: 'simulator' },
  });
  const listening = sidecar.logs.find((l) => l.msg === 'listening');
  assert.equal(listening?.demo, true);
  const health = (await (await fetch(`${sidecar.baseUrl}/health`)).json()) as {
    dependencies: Record<string, { detail?: string }>;
  };
  assert.match(health.dependencies.source?.detail ?? '', /^simulator/);
  assert.doesNotMatch(health.dependencies.db?.detail ?? '', /embedded/);
});
