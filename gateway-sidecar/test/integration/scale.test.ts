/**
 * Scale-out on the real NATS JetStream + real Postgres: a single-worker reference run, then three
 * worker processes with one SIGKILLed mid-stream. Every event must be scored exactly once, the
 * anomalies must equal the reference (the feature windows moved with their partitions), and the
 * recommendations must equal the reference (dedup keys, occurrence counts, anomalous event ids).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';
import {
  createScaleRun,
  eventStream,
  publish,
  startWorker,
  stopWorker,
  until,
  type ScaleRun,
  type WorkerProcess,
} from '../fixtures/scale-harness.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';

const EQUIPMENT = 8;
const TICKS = 80;
const DEBUG_FAST = process.env.SCALE_DEBUG === '1';
const events = eventStream(EQUIPMENT, TICKS);
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

interface Outcome {
  silver: number;
  distinctSilver: number;
  anomalies: Set<string>;
  recs: Map<string, { occurrences: number; eventIds: string[] }>;
}

async function outcome(pool: pg.Pool): Promise<Outcome> {
  const { rows: s } = await pool.query<{ n: string; d: string }>(
    'SELECT count(*)::text AS n, count(DISTINCT event_id)::text AS d FROM mining_operations.anomaly_detection_silver',
  );
  const { rows: a } = await pool.query<{ event_id: string }>(
    'SELECT event_id FROM mining_operations.anomaly_detection_silver WHERE is_anomaly',
  );
  const { rows: r } = await pool.query<{ dedup_key: string; occurrence_count: number; ids: string[] }>(
    'SELECT dedup_key, occurrence_count, ARRAY(SELECT unnest(anomaly_event_ids) ORDER BY 1) AS ids FROM agentic_hmi.agent_recommendations',
  );
  return {
    silver: Number(s[0]?.n),
    distinctSilver: Number(s[0]?.d),
    anomalies: new Set(a.map((x) => x.event_id)),
    recs: new Map(r.map((x) => [x.dedup_key, { occurrences: x.occurrence_count, eventIds: x.ids }])),
  };
}

async function setup(): Promise<{ db: TestDatabase; pool: pg.Pool; run: ScaleRun }> {
  const db = await createTestDatabase('sc_scale');
  const pool = testPool(db.url, 3);
  await runMigrations(pool);
  // Checkpoints every 500 ms: the killed worker leaves snapshots behind and also work after them.
  const run = await createScaleRun(db.url, {
    equipment: EQUIPMENT,
    partitions: 6,
    batchSize: 20,
    checkpointEveryMs: 500,
  });
  cleanup.push(async () => {
    await run.nats.destroy();
    await run.nats.close();
    await pool.end();
    await db.drop();
  });
  return { db, pool, run };
}

const silverCount = async (pool: pg.Pool): Promise<number> =>
  Number(
    (
      await pool.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM mining_operations.anomaly_detection_silver',
      )
    ).rows[0]?.n,
  );

test(
  '3 workers, one SIGKILLed mid-stream: every event scored once, recommendations equal a single-worker run',
  { timeout: 290_000 },
  async () => {
    // Reference: one worker, no failure.
    const ref = await setup();
    const solo = startWorker(ref.run, 'solo');
    cleanup.push(() => stopWorker(solo));
    await solo.ready;
    await publish(ref.run, events);
    await until(
      async () => (await silverCount(ref.pool)) >= events.length,
      'reference run to score everything',
      DEBUG_FAST ? 45_000 : 120_000,
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}: ${await silverCount(ref.pool)} of ${events.length}, worker committed ${solo.processed()}; stderr: ${solo.stderr()}`,
      );
    });
    await stopWorker(solo);
    const expected = await outcome(ref.pool);
    assert.equal(expected.silver, events.length);
    assert.ok(
      expected.anomalies.size > 0,
      'the reference run flagged no anomaly: the comparison would prove nothing',
    );
    assert.ok(expected.recs.size > 0, 'the reference run made no recommendation');

    // Three workers; B is killed with SIGKILL once it has committed work and the stream is not done.
    const scaled = await setup();
    const workers: WorkerProcess[] = ['a', 'b', 'c'].map((id) => startWorker(scaled.run, id));
    for (const w of workers) cleanup.push(() => stopWorker(w));
    await Promise.all(workers.map((w) => w.ready));
    await new Promise((r) => setTimeout(r, 1_500)); // a couple of lease rounds: shares settle
    await publish(scaled.run, events);
    const victim = workers[1] as WorkerProcess;
    await until(
      () => victim.processed() >= 40 && victim.events.checkpoints.some((c) => c.seq > 0),
      'worker b to commit and checkpoint work',
      120_000,
    );
    const atKill = await silverCount(scaled.pool);
    victim.child.kill('SIGKILL');
    await victim.exited;
    assert.ok(
      atKill < events.length,
      `the kill came too late to test anything (${atKill} of ${events.length} scored)`,
    );
    await until(
      async () => (await silverCount(scaled.pool)) >= events.length,
      'survivors to finish the stream',
      DEBUG_FAST ? 45_000 : 120_000,
    ).catch(async (err: Error) => {
      const detail = workers.map((w) => `${w.id}: committed ${w.processed()}\n${w.stderr()}`).join('\n');
      throw new Error(
        `${err.message}: ${await silverCount(scaled.pool)} of ${events.length} (killed at ${atKill})\n${detail}`,
      );
    });
    await new Promise((r) => setTimeout(r, 1_000)); // a straggling duplicate would show now
    const survivors = workers.filter((w) => w !== victim);
    assert.ok(
      survivors.every((w) => w.processed() > 0),
      'a surviving worker did no work: the partitions were not shared',
    );
    // The victim's partitions moved with their state: a survivor restored a snapshot taken after
    // work was done (seq > 0), no snapshot was unusable, and the stream had no hole.
    const victimCheckpoints = victim.events.checkpoints.filter((c) => c.seq > 0);
    assert.ok(victimCheckpoints.length > 0, 'the killed worker never checkpointed: nothing to restore');
    const moved = survivors
      .flatMap((w) => w.events.restored)
      .filter((r) => victimCheckpoints.some((c) => c.partition === r.partition) && r.seq > 0);
    assert.ok(
      moved.length > 0,
      `no survivor restored a partition of the killed worker from its snapshot: ${JSON.stringify(survivors.map((w) => w.events.restored))}`,
    );
    assert.ok(moved.every((r) => r.stateBytes > 0));
    assert.deepEqual(
      workers.flatMap((w) => w.events.restoreFailed),
      [],
      'a snapshot could not be restored',
    );
    assert.deepEqual(
      workers.flatMap((w) => w.events.holes),
      [],
      'a delivery hole was reported on an intact stream',
    );
    for (const w of survivors) await stopWorker(w);

    const got = await outcome(scaled.pool);
    assert.equal(got.silver, events.length, 'silver rows != events');
    assert.equal(got.distinctSilver, events.length, 'an event was scored twice');
    assert.deepEqual(
      [...got.anomalies].sort(),
      [...expected.anomalies].sort(),
      'anomalies differ from the reference: state did not move exactly',
    );
    assert.deepEqual(
      [...got.recs.keys()].sort(),
      [...expected.recs.keys()].sort(),
      'recommendation dedup keys differ',
    );
    for (const [k, v] of expected.recs) assert.deepEqual(got.recs.get(k), v, `recommendation ${k} differs`);
  },
);
