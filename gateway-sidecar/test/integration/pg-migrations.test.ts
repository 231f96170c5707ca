import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPgPool } from '../../src/adapters/pg-pool.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { createTestDatabase, type TestDatabase } from '../fixtures/pg.ts';
import type pg from 'pg';

let db: TestDatabase;
let pool: pg.Pool;
before(async () => {
  db = await createTestDatabase('sc_migr');
  pool = createPgPool({
    url: db.url,
    ssl: 'disable',
    poolMax: 4,
    connectionTimeoutMs: 5000,
    statementTimeoutMs: 10000,
    idleTimeoutMs: 10000,
  });
});
after(async () => {
  await pool.end();
  await db.drop();
});

test('migrations create the seed tables once and are idempotent, even concurrently', async () => {
  const [a, b] = await Promise.all([runMigrations(pool), runMigrations(pool)]);
  assert.ok(a.length + b.length >= 1);
  assert.ok(a.includes('001_initial_schema.sql') !== b.includes('001_initial_schema.sql'));
  assert.deepEqual(await runMigrations(pool), []);
  const { rows } = await pool.query<{ t: string }>(
    `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables
      WHERE table_schema IN ('mining_operations','agentic_hmi') ORDER BY 1`,
  );
  const names = rows.map((r) => r.t);
  for (const t of [
    'agentic_hmi.agent_recommendations',
    'agentic_hmi.recommendation_audit',
    'mining_operations.anomaly_detection_silver',
    'mining_operations.critical_alerts',
    'mining_operations.pipeline_metrics',
    'mining_operations.sensor_stream_bronze',
  ]) {
    assert.ok(names.includes(t), `missing ${t}`);
  }
});
