/**
 * The composition root as `npm start` runs it: no CONFIG_FILE (the demo config), the embedded
 * database under a fresh DATA_DIR, the simulated plant. It must serve /health, the preview page at
 * `/` with the demo token only for loopback hosts, the API with that token, and stop cleanly on
 * SIGTERM. A bad config stops start-up with a message naming the key.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSidecar, writeConfig, type SidecarProcess } from '../fixtures/sidecar-process.ts';

/** GET with an explicit Host header (fetch does not allow overriding it). */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('npm start equivalent (demo config, embedded database)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sidecar-main-'));
  let sidecar: SidecarProcess | undefined;
  after(async () => {
    await sidecar?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('boots, serves /health, the preview page and the API, and stops cleanly', async () => {
    sidecar = await startSidecar({ env: { DATA_DIR: dataDir } });
    const s = sidecar;
    const tokens = await s.waitForLog((l) => l.msg?.toString().startsWith('demo tokens generated') === true);
    assert.equal(typeof tokens.operatorToken, 'string');

    const health = await fetch(`${s.baseUrl}/health`);
    assert.equal(health.status, 200);
    const report = (await health.json()) as {
      status: string;
      dependencies: Record<string, { state: string; detail?: string }>;
    };
    assert.equal(report.dependencies.db?.state, 'up');
    assert.equal(report.dependencies.db?.detail, 'embedded');
    assert.ok(['up', 'degraded'].includes(report.dependencies.source?.state ?? ''));

    const page = await fetch(`${s.baseUrl}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    const token = /<meta name="sidecar-token" content="([^"]+)">/.exec(html)?.[1];
    assert.equal(token, tokens.operatorToken, 'the operator demo token is injected for loopback');
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'self'/);
    assert.equal(page.headers.get('x-frame-options'), 'SAMEORIGIN');

    // DNS rebinding: a foreign host name pointing at 127.0.0.1 gets the page without the token.
    const rebound = await getWithHost(s.port, '/', 'attacker.example:8787');
    assert.equal(rebound.status, 200);
    assert.doesNotMatch(rebound.body, /sidecar-token/);

    const plain = await fetch(`${s.baseUrl}/plain/`);
    assert.equal(plain.status, 200);
    assert.match(await plain.text(), /AI Recommendations/);

    const api = await fetch(`${s.baseUrl}/api/recommendations`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(api.status, 200);
    const anonymous = await fetch(`${s.baseUrl}/api/recommendations`);
    assert.equal(anonymous.status, 401);

    const metrics = await (await fetch(`${s.baseUrl}/metrics`)).text();
    assert.match(metrics, /sidecar_events_accepted_total \d+/);

    const exit = await s.kill('SIGTERM');
    assert.equal(exit.code, 0);
    assert.ok(
      s.logs.some((l) => l.msg === 'stopped'),
      'logs the end of the drain',
    );
  });

  test('a bad config file stops start-up naming the key', () => {
    const file = writeConfig({ port: 'eighty', bogusKey: true });
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, CONFIG_FILE: file, PORT: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /SC_ERR_CONFIG_INVALID|invalid configuration/);
    assert.match(r.stderr, /port/);
    assert.match(r.stderr, /bogusKey/);
  });
});
