import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startEmbeddedPostgres } from '../../src/adapters/embedded-postgres.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { poolFor } from '../fixtures/db-targets.ts';

const dir = mkdtempSync(join(tmpdir(), 'sc-embedded-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('embedded database: multi-client pool, one owner per folder, data kept across a restart, stale lock taken over', async () => {
  const first = await startEmbeddedPostgres({ dataDir: dir });
  assert.match(first.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  const pool = poolFor(first.url, 6);
  await runMigrations(pool);
  // Six concurrent clients, one of them inside a transaction: all must succeed.
  const results = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO mining_operations.sensor_data (equipment_id, sensor_type, sensor_value, unit) VALUES ($1, 'temperature', $2, 'C')`,
          [`EQ_${i}`, 70 + i],
        );
        await client.query('COMMIT');
        return (await client.query<{ n: string }>('SELECT count(*) AS n FROM mining_operations.sensor_data'))
          .rows[0]?.n;
      } finally {
        client.release();
      }
    }),
  );
  assert.equal(results.length, 6);
  assert.ok(first.stats().activeConnections >= 2, 'the pool should hold several wire connections at once');
  // A second owner of the same folder is refused while the first runs.
  await assert.rejects(startEmbeddedPostgres({ dataDir: dir }), { code: 'SC_ERR_DB_EMBEDDED_LOCKED' });
  await pool.end();
  await first.stop();
  // A lock left by a killed process (a pid that has certainly exited) is taken over.
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  writeFileSync(join(dir, 'pgdata.lock'), child.stdout);

  const second = await startEmbeddedPostgres({ dataDir: dir });
  const pool2 = poolFor(second.url, 2);
  try {
    assert.deepEqual(await runMigrations(pool2), [], 'schema already applied, nothing to migrate');
    const { rows } = await pool2.query<{ equipment_id: string }>(
      'SELECT equipment_id FROM mining_operations.sensor_data ORDER BY equipment_id',
    );
    assert.deepEqual(
      rows.map((r) => r.equipment_id),
      ['EQ_0', 'EQ_1', 'EQ_2', 'EQ_3', 'EQ_4', 'EQ_5'],
    );
  } finally {
    await pool2.end();
    await second.stop();
  }
});
