/**
 * The real sidecar process configured for an OPC UA endpoint where nothing listens: the HTTP
 * server, /health and /metrics come up at once, /health says degraded naming the source and the
 * connection error, and the source keeps retrying in the background. Then a real node-opcua server
 * starts on that port: /health turns ok and tag changes reach the bronze table.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, testPool, type TestDatabase } from '../fixtures/pg.ts';
import { IGNITION_TAGS_NS, startOpcuaFixtureServer, type FixtureServer } from '../fixtures/opcua-server.ts';
import { startSidecar, writeConfig, type SidecarProcess } from '../fixtures/sidecar-process.ts';

const TEMP = '[default]Reactors/R01/Temperature';

interface Health {
  status: string;
  dependencies: Record<string, { state: string; detail?: string }>;
}

let db: TestDatabase | undefined;
let pool: pg.Pool | undefined;
let server: FixtureServer | undefined;
let sidecar: SidecarProcess | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'sc-offline-src-'));
after(async () => {
  await sidecar?.kill('SIGTERM');
  await server?.close();
  await pool?.end();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function health(baseUrl: string): Promise<{ status: number; body: Health; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${baseUrl}/health`);
  return { status: res.status, body: (await res.json()) as Health, ms: Date.now() - t0 };
}

async function until<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test(
  'no OPC UA server at start: the API is up and degraded at once; the source connects when the server appears',
  { timeout: 300_000 },
  async () => {
    db = await createTestDatabase('sc_offline_src');
    pool = testPool(db.url, 2);
    // Take a port the fixture server will come back on, and leave nothing listening there.
    server = await startOpcuaFixtureServer();
    await server.stop();
    const endpoint = server.endpointUrl;

    const configFile = writeConfig({
      dataDir,
      database: { url: db.url },
      source: {
        kind: 'opcua',
        opcua: {
          endpointUrl: endpoint,
          namespaceUri: IGNITION_TAGS_NS,
          trustUnknownServerCertificate: true,
          reconnectMaxDelayMs: 500,
          samplingIntervalMs: 50,
          publishingIntervalMs: 50,
          tags: [TEMP],
        },
      },
      http: { demoTokens: 'off' },
      auth: { tokens: [{ token: 'offline-src-viewer-token-0123456789', user: 'v', roles: ['viewer'] }] },
    });
    // Without the fix the process never logs 'listening' while the server is down.
    sidecar = await startSidecar({ configFile, timeoutMs: 90_000 });
    const s = sidecar;

    const first = await until(
      () => health(s.baseUrl),
      (h) => /ECONNREFUSED/.test(h.body.dependencies.source?.detail ?? ''),
      'the connection error on /health',
      30_000,
    );
    assert.equal(first.status, 200);
    assert.ok(first.ms < 2_000, `/health answered in ${first.ms} ms`);
    assert.equal(first.body.status, 'degraded');
    assert.equal(first.body.dependencies.source?.state, 'degraded');
    const detail = first.body.dependencies.source?.detail ?? '';
    assert.ok(
      detail.startsWith(
        `opcua:${endpoint}: not connected (connecting); last error: OPC UA source cannot subscribe at ${endpoint}: `,
      ),
      detail,
    );
    assert.equal(first.body.dependencies.db?.state, 'up');

    const metrics = await fetch(`${s.baseUrl}/metrics`);
    assert.equal(metrics.status, 200);
    const api = await fetch(`${s.baseUrl}/api/recommendations`, {
      headers: { authorization: 'Bearer offline-src-viewer-token-0123456789' },
    });
    assert.equal(api.status, 200);
    // Still retrying, not given up.
    await s.waitForLog(
      (l) =>
        l.msg === 'source not started; retrying in the background (the HTTP API is up)' &&
        Number(l.attempt) >= 2,
      30_000,
    );

    await server.restart();
    const healthy = await until(
      () => health(s.baseUrl),
      (h) => h.body.status === 'ok',
      'status ok after the server started',
    );
    assert.equal(healthy.body.dependencies.source?.state, 'up');
    assert.equal(healthy.body.dependencies.source?.detail, `opcua:${endpoint}: connected`);

    server.setValue(TEMP, 71.25);
    const row = await until(
      async () =>
        (
          await pool!.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM mining_operations.sensor_stream_bronze WHERE tag_path = $1 AND sensor_value = 71.25`,
            [TEMP],
          )
        ).rows[0]?.n,
      (n) => n === '1',
      'the 71.25 change in the bronze table',
    );
    assert.equal(row, '1');
  },
);
