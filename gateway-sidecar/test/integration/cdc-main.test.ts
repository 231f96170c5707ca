/**
 * source.kind "cdc" through the real sidecar process (main.ts → source-factory.ts): rows inserted
 * into mining_operations.sensor_data come out scored in the silver table.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';
import { startSidecar, writeConfig, type SidecarProcess } from '../fixtures/sidecar-process.ts';

let db: TestDatabase | undefined;
let pool: pg.Pool | undefined;
let sidecar: SidecarProcess | undefined;
after(async () => {
  await sidecar?.kill('SIGTERM');
  await pool?.end();
  await db?.drop();
});

test(
  'source.kind cdc: inserted sensor_data rows are scored by the running sidecar',
  { timeout: 240_000 },
  async () => {
    db = await createTestDatabase('sc_cdc_main');
    const client = testPool(db.url, 2);
    pool = client;
    const dataDir = mkdtempSync(join(tmpdir(), 'sc-cdc-main-'));
    const configFile = writeConfig({
      dataDir,
      logLevel: 'info',
      database: { url: db.url },
      source: { kind: 'cdc', cdc: { consumer: 'main-test', gapGraceMs: 500 } },
      http: { demoTokens: 'off' },
      auth: { tokens: [{ token: 'cdc-main-viewer-token-0123456789', user: 'v', roles: ['viewer'] }] },
    });
    sidecar = await startSidecar({ configFile });
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 30; i++) {
      await client.query(
        `INSERT INTO mining_operations.sensor_data (equipment_id, sensor_type, sensor_value, unit, timestamp) VALUES ('REACTOR_01', 'temperature', $1, '°C', to_timestamp($2::float8 / 1000))`,
        [60 + (i % 3), t0 + i * 1_000],
      );
    }
    // The source moves its offset only after the sink wrote the batch: once the offset is at the last
    // inserted id, every row's effects are committed, so the silver count read after it is final.
    const offset = await pollUntil(
      async () =>
        (
          await client.query<{ last_id: string }>(
            `SELECT last_id::text FROM agentic_hmi.cdc_offsets WHERE consumer = 'main-test'`,
          )
        ).rows[0]?.last_id,
      (v) => v !== undefined && Number(v) >= 30,
      'the CDC offset of consumer main-test to reach id 30',
      120_000,
    );
    assert.equal(offset, '30');
    const n = Number(
      (
        await client.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM mining_operations.anomaly_detection_silver WHERE equipment_id = 'REACTOR_01'`,
        )
      ).rows[0]?.n,
    );
    assert.equal(n, 30, 'every inserted row is scored exactly once');
  },
);

/** Polls `read` until `done` holds or `timeoutMs` passed (then fails with the last value read). */
async function pollUntil<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  what: string,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
