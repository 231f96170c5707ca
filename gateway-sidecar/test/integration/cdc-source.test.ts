import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { PgCdcTagSource } from '../../src/adapters/pg-cdc-tag-source.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { parseConfig, toEquipment } from '../../src/config.ts';
import { buildEquipmentIndex } from '../../src/domain/equipment.ts';
import type { TagEvent } from '../../src/domain/tag-event.ts';
import { systemClock } from '../../src/ports.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';
import { tagSourceContract } from '../contracts/tag-source.contract.ts';

const index = buildEquipmentIndex(toEquipment(parseConfig({})));
const TEMP = '[default]Reactors/R01/Temperature';
let db: TestDatabase;
let pool: pg.Pool;

before(async () => {
  db = await createTestDatabase('sc_cdc');
  pool = testPool(db.url, 4);
  await runMigrations(pool);
});
after(async () => {
  await pool.end();
  await db.drop();
});

const make = (consumer: string, maxBatch = 100): PgCdcTagSource =>
  new PgCdcTagSource({
    url: db.url,
    equipment: index,
    consumer,
    maxBatch,
    gapGraceMs: 300,
    reconnectMs: { first: 50, max: 500 },
    clock: systemClock,
  });

let tsBase = Date.UTC(2026, 0, 1);
/** Inserts `n` temperature rows (one statement each, as the seed does); returns their values. */
async function insertRows(n: number): Promise<number[]> {
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = 50 + (values.length % 7);
    values.push(v);
    tsBase += 1_000;
    await pool.query(
      `INSERT INTO mining_operations.sensor_data (equipment_id, sensor_type, sensor_value, unit, tag_path, timestamp) VALUES ('REACTOR_01','temperature',$1,'°C',NULL,to_timestamp($2::float8/1000))`,
      [v, tsBase],
    );
  }
  return values;
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

tagSourceContract('cdc', async () => {
  // A fresh consumer starts at offset 0: the rows of earlier tests are its backlog.
  const source = make(`contract-${randomUUID().slice(0, 8)}`, 5);
  return {
    source,
    stimulate: async () => {
      await insertRows(1);
    },
    expectedTags: [TEMP],
    close: async () => undefined,
  };
});

test('inserts arrive through NOTIFY, the source issues no query while idle, restart resumes exactly', async () => {
  const consumer = `resume-${randomUUID().slice(0, 8)}`;
  // Everything inserted so far is history this consumer must also deliver exactly once.
  const { rows } = await pool.query<{ n: string; max: string | null }>(
    'SELECT count(*)::text AS n, max(id)::text AS max FROM mining_operations.sensor_data',
  );
  const before = Number(rows[0]?.n ?? 0);
  const got: TagEvent[] = [];
  const a = make(consumer, 7);
  await a.start((b) => void got.push(...b));
  try {
    await until(() => got.length === before, 'backlog');
  } catch (err) {
    await a.stop();
    throw new Error(
      `${(err as Error).message}: got ${got.length} of ${before}, rejected ${JSON.stringify(a.rejectedCounts())}`,
    );
  }
  const idleFrom = a.queryCount();
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(
    a.queryCount(),
    idleFrom,
    'the source queried the database while nothing was inserted (polling)',
  );

  await insertRows(10);
  await until(() => got.length === before + 10, 'ten live rows');
  assert.ok(a.queryCount() > idleFrom, 'arrival needs a read that only a notification can have triggered');
  await a.stop();

  await insertRows(5); // while stopped: no listener, the offset must carry them
  const b = make(consumer, 7);
  const gotB: TagEvent[] = [];
  await b.start((batch) => void gotB.push(...batch));
  await until(() => gotB.length === 5, 'rows inserted while stopped');
  await insertRows(3);
  await until(() => gotB.length === 8, 'rows after restart');
  await new Promise((r) => setTimeout(r, 200));
  await b.stop();
  const all = [...got, ...gotB].map((e) => `${e.tagPath}@${e.sourceTimestampMs}`);
  assert.equal(new Set(all).size, all.length, 'an event was delivered twice');
  assert.equal(all.length, before + 18, 'an event is missing');
  const { rows: off } = await pool.query<{ last_id: string }>(
    'SELECT last_id::text FROM agentic_hmi.cdc_offsets WHERE consumer = $1',
    [consumer],
  );
  const { rows: mx } = await pool.query<{ max: string }>(
    'SELECT max(id)::text AS max FROM mining_operations.sensor_data',
  );
  assert.equal(off[0]?.last_id, mx[0]?.max);
});

test('malformed rows (NaN, infinite, unknown tag) are counted and skipped; the rest flows', async () => {
  const consumer = `bad-${randomUUID().slice(0, 8)}`;
  await pool.query(
    `INSERT INTO agentic_hmi.cdc_offsets (consumer, last_id) SELECT $1, coalesce(max(id), 0) FROM mining_operations.sensor_data`,
    [consumer],
  );
  const got: TagEvent[] = [];
  const s = make(consumer);
  await s.start((b) => void got.push(...b));
  await pool.query(`INSERT INTO mining_operations.sensor_data (equipment_id, sensor_type, sensor_value) VALUES
    ('REACTOR_01','temperature','NaN'), ('REACTOR_01','pressure','Infinity'), ('NOPE_9','temperature',1),
    ('REACTOR_01','vibration',2.5)`);
  await pool.query(
    `INSERT INTO mining_operations.sensor_data (equipment_id, sensor_type, sensor_value, tag_path) VALUES ('X','y',3.5,'[default]Utilities/P02/Flow')`,
  );
  await until(() => got.length === 2, 'two good rows');
  await until(() => (s.rejectedCounts().unknown_tag ?? 0) === 1, 'counts');
  await s.stop();
  assert.deepEqual(s.rejectedCounts(), { nan: 1, infinite: 1, unknown_tag: 1 });
  assert.deepEqual(
    got.map((e) => [e.tagPath, e.value]),
    [
      ['[default]Reactors/R01/Vibration', 2.5],
      ['[default]Utilities/P02/Flow', 3.5],
    ],
  );
});

test('a hole in the ids waits for the late commit instead of skipping it', async () => {
  const consumer = `gap-${randomUUID().slice(0, 8)}`;
  await pool.query(
    `INSERT INTO agentic_hmi.cdc_offsets (consumer, last_id) SELECT $1, coalesce(max(id), 0) FROM mining_operations.sensor_data`,
    [consumer],
  );
  const got: TagEvent[] = [];
  const s = make(consumer);
  await s.start((b) => void got.push(...b));
  const slow = await pool.connect();
  try {
    await slow.query('BEGIN');
    await slow.query(
      `INSERT INTO mining_operations.sensor_data (equipment_id, sensor_type, sensor_value) VALUES ('REACTOR_01','pressure',1)`,
    );
    await pool.query(
      `INSERT INTO mining_operations.sensor_data (equipment_id, sensor_type, sensor_value) VALUES ('REACTOR_01','pressure',2)`,
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.length, 0, 'the later id was delivered before the earlier open transaction committed');
    await slow.query('COMMIT');
  } finally {
    slow.release();
  }
  await until(() => got.length === 2, 'both rows');
  await s.stop();
  assert.deepEqual(
    got.map((e) => e.value),
    [1, 2],
  );
});
