/**
 * Takeover delivery-hole check on the real NATS JetStream + Postgres (docs/scale-out.md): a worker
 * scores the first half of a stream and stops (checkpoint + snapshot in Postgres); the second half
 * is published, then a range is purged from the stream head and one message is deleted from its
 * middle. The next owner must restore the snapshot, report every missing sequence after each
 * partition's checkpoint (stdout line, error log naming partition and range, a row in
 * agentic_hmi.scale_delivery_holes) and still score everything that is left, exactly once.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import type pg from 'pg';
import { connect, type JetStreamManager } from 'nats';
import {
  countOf as count,
  eventStream,
  NATS_URL,
  openScaleLab,
  publish,
  SCORED_EVENTS_SQL as SILVER,
  startWorker,
  stopWorker,
  until,
  type ScaleLab,
  type WorkerProcess,
} from '../fixtures/scale-harness.ts';
import type { TagEvent } from '../../src/domain/tag-event.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

/** A scale lab of 4 equipment on 2 partitions, checkpointing after every batch, its worker /health on. */
const openLab = (name: string, poolMax: number, batchSize: number): Promise<ScaleLab> =>
  openScaleLab(name, poolMax, { equipment: 4, partitions: 2, batchSize, checkpointEveryMs: 0, httpPort: 0 });

/** The lab's stream under a JetStream manager of the test's own, to purge and delete messages. */
async function streamAdmin(
  lab: ScaleLab,
): Promise<{ jsm: JetStreamManager; stream: string; close: () => Promise<void> }> {
  const nc = await connect({ servers: NATS_URL });
  return {
    jsm: await nc.jetstreamManager(),
    stream: (lab.run.config.source as { nats: { stream: string } }).nats.stream,
    close: () => nc.close(),
  };
}

test(
  'a takeover reports purged and deleted stream sequences after the checkpoint, per partition, and scores the rest once',
  { timeout: 200_000 },
  async () => {
    const lab = await openLab('sc_scale_holes', 2, 20);
    const { pool, run } = lab;
    const admin = await streamAdmin(lab);
    const { jsm, stream } = admin;
    const workers: WorkerProcess[] = [];
    cleanup.push(async () => {
      for (const w of workers) await stopWorker(w);
      await admin.close();
      await lab.close();
    });
    const events = eventStream(4, 20); // 160 events, 2 per equipment per tick
    const half = events.length / 2;

    // Phase 1: one worker scores the first half, then stops (its last checkpoint is saved).
    const a = startWorker(run, 'a');
    workers.push(a);
    await a.ready;
    await publish(run, events.slice(0, half));
    await until(async () => (await count(pool, SILVER)) >= half, 'the first half to be scored', 90_000);
    await stopWorker(a);
    const { rows: cps } = await pool.query<{ partition_no: number; seq: string; bytes: number }>(
      'SELECT partition_no, seq::text AS seq, octet_length(state) AS bytes FROM agentic_hmi.scale_partition_checkpoints ORDER BY partition_no',
    );
    assert.equal(cps.length, 2, 'both partitions must have a checkpoint');
    assert.ok(
      cps.every((c) => Number(c.seq) > 0 && Number(c.seq) <= half && c.bytes > 0),
      JSON.stringify(cps),
    );

    // Phase 2: the second half arrives; 10 messages are purged from the head, one deleted later on.
    await publish(run, events.slice(half));
    const before = (await jsm.streams.info(stream)).state;
    assert.equal(before.last_seq, events.length, 'stream sequences are expected to be 1..N');
    const purgeBelow = half + 11; // removes every sequence < half + 11: half+1 .. half+10 were never scored
    const deleted = half + 30;
    await jsm.streams.purge(stream, { seq: purgeBelow });
    assert.equal(await jsm.streams.deleteMessage(stream, deleted), true);

    // Phase 3: a new owner restores the snapshots and finds the holes.
    const b = startWorker(run, 'b');
    workers.push(b);
    await b.ready;
    const removed = purgeBelow - 1 - half + 1; // the purged never-scored range plus the deleted message
    await until(
      async () => (await count(pool, SILVER)) >= events.length - removed,
      'the rest of the stream to be scored',
      90_000,
    );
    await until(() => b.events.restored.length === 2, 'both partitions to be restored', 30_000);
    await new Promise((r) => setTimeout(r, 1_000)); // a straggler would show now

    assert.deepEqual(
      b.events.restored.map((r) => [r.partition, r.seq]).sort(),
      cps.map((c) => [c.partition_no, Number(c.seq)]).sort(),
      'the new owner must resume each partition at its checkpoint',
    );
    assert.deepEqual(b.events.restoreFailed, []);
    // JetStream no longer knows which subject a removed message had: every partition whose
    // checkpoint lies before a missing sequence reports it.
    const expected = cps.flatMap((c) => [
      { partition: c.partition_no, from: Number(c.seq) + 1, to: purgeBelow - 1 },
      { partition: c.partition_no, from: deleted, to: deleted },
    ]);
    const byKey = (h: { partition: number; from: number; to: number }): string =>
      `${h.partition}:${h.from}-${h.to}`;
    assert.deepEqual(b.events.holes.map(byKey).sort(), expected.map(byKey).sort());
    const { rows: recorded } = await pool.query<{
      partition_no: number;
      from_seq: string;
      to_seq: string;
      instance_id: string;
    }>(
      'SELECT partition_no, from_seq::text, to_seq::text, instance_id FROM agentic_hmi.scale_delivery_holes',
    );
    assert.deepEqual(
      recorded
        .map((r) => byKey({ partition: r.partition_no, from: Number(r.from_seq), to: Number(r.to_seq) }))
        .sort(),
      expected.map(byKey).sort(),
    );
    assert.ok(
      recorded.every((r) => r.instance_id === `${hostname()}-${b.child.pid}`),
      JSON.stringify(recorded),
    );
    for (const h of expected) {
      assert.ok(
        b
          .stderr()
          .includes(
            `delivery hole: stream sequences ${h.from}-${h.to} after partition ${h.partition}'s checkpoint`,
          ),
        `no error log line for partition ${h.partition} range ${h.from}-${h.to}:\n${b.stderr()}`,
      );
    }
    // Operator-visible: the worker's /health is degraded and names the holes; /metrics counts them.
    const base = `http://127.0.0.1:${b.httpPort()}`;
    const health = (await (await fetch(`${base}/health`)).json()) as {
      status: string;
      deliveryHoles: { partition: number; from: number; to: number }[];
    };
    assert.equal(health.status, 'degraded');
    assert.deepEqual(health.deliveryHoles.map(byKey).sort(), expected.map(byKey).sort());
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const c of cps) {
      assert.match(
        metrics,
        new RegExp(`^scale_delivery_holes_total\\{partition="${c.partition_no}"\\} 2$`, 'm'),
      );
      assert.match(
        metrics,
        new RegExp(
          `^scale_delivery_hole_sequences_total\\{partition="${c.partition_no}"\\} ${purgeBelow - 1 - Number(c.seq) + 1}$`,
          'm',
        ),
      );
    }
    assert.match(metrics, /^scale_partition_restores_total\{partition="0"\} 1$/m);
    // Phase 1's worker saw an intact stream: healthy when it ran (checked through its stdout).
    assert.deepEqual(a.events.holes, []);

    // Everything still stored was scored exactly once; the removed events were not.
    assert.equal(await count(pool, SILVER), events.length - removed);
    assert.equal(
      await count(pool, 'SELECT count(*)::text AS n FROM mining_operations.anomaly_detection_silver'),
      events.length - removed,
    );
  },
);

interface Scored {
  readonly score: number;
  readonly anomaly: boolean;
  readonly features: string;
}

async function scoredRows(pool: pg.Pool): Promise<Map<string, Scored>> {
  const { rows } = await pool.query<{
    event_id: string;
    anomaly_score: number;
    is_anomaly: boolean;
    features: string;
  }>(
    'SELECT event_id, anomaly_score, is_anomaly, features::text AS features FROM mining_operations.anomaly_detection_silver',
  );
  return new Map(
    rows.map((r) => [r.event_id, { score: r.anomaly_score, anomaly: r.is_anomaly, features: r.features }]),
  );
}

/**
 * Scores `events` with one worker until `splitAt`, stops it, lets `between` touch the database,
 * then scores the rest with a second worker. Returns the silver rows, the second worker and its
 * /health status.
 */
async function handover(
  name: string,
  events: readonly TagEvent[],
  splitAt: number,
  between: (pool: pg.Pool) => Promise<void>,
): Promise<{ rows: Map<string, Scored>; second: WorkerProcess | undefined; health: string | undefined }> {
  const lab = await openLab(name, 2, 7);
  const { pool, run } = lab;
  const workers: WorkerProcess[] = [];
  try {
    const a = startWorker(run, `${name}-a`);
    workers.push(a);
    await a.ready;
    await publish(run, events.slice(0, splitAt));
    await until(async () => (await count(pool, SILVER)) >= splitAt, `${name}: first part scored`, 90_000);
    if (splitAt === events.length)
      return { rows: await scoredRows(pool), second: undefined, health: undefined };
    await stopWorker(a);
    await between(pool);
    await publish(run, events.slice(splitAt));
    const b = startWorker(run, `${name}-b`);
    workers.push(b);
    await b.ready;
    await until(async () => (await count(pool, SILVER)) >= events.length, `${name}: the rest scored`, 90_000);
    const health = (await (await fetch(`http://127.0.0.1:${b.httpPort()}/health`)).json()) as {
      status: string;
    };
    return { rows: await scoredRows(pool), second: b, health: health.status };
  } finally {
    for (const w of workers) await stopWorker(w);
    await lab.close();
  }
}

test(
  'a partition handed over by snapshot, or rebuilt from the stream when its snapshot is unusable, scores exactly like an uninterrupted run',
  { timeout: 280_000 },
  async () => {
    const events = eventStream(4, 40); // EQ_001 runs hot from tick 24 to 30
    const splitAt = 27 * 8; // inside the fault: the alarm gate is active at the handover
    const reference = (await handover('sc_scale_ref', events, events.length, async () => undefined)).rows;
    assert.equal(reference.size, events.length);
    assert.ok(
      [...reference.values()].some((r) => r.anomaly),
      'the reference flagged no anomaly: the comparison would prove little',
    );

    const compare = (got: Map<string, Scored>, what: string): void => {
      assert.equal(got.size, events.length, `${what}: silver rows != events`);
      for (const [id, ref] of reference)
        assert.deepEqual(got.get(id), ref, `${what}: event ${id} scored differently`);
    };

    const bySnapshot = await handover('sc_scale_snap', events, splitAt, async () => undefined);
    compare(bySnapshot.rows, 'snapshot handover');
    assert.equal(bySnapshot.second?.events.restored.length, 2);
    assert.deepEqual(bySnapshot.second?.events.restoreFailed, []);

    // A snapshot of another format version (an upgrade, a corrupt row) is reported, and the state is
    // rebuilt by re-scoring the retained stream up to the checkpoint: still exact.
    const rebuilt = await handover('sc_scale_rebuild', events, splitAt, async (pool) => {
      const r = await pool.query(
        'UPDATE agentic_hmi.scale_partition_checkpoints SET state = set_byte(state, 4, 9)',
      );
      assert.equal(r.rowCount, 2);
    });
    compare(rebuilt.rows, 'rebuild after an unusable snapshot');
    const failed = rebuilt.second?.events.restoreFailed ?? [];
    assert.deepEqual(failed.map((f) => f.partition).sort(), [0, 1]);
    for (const f of failed)
      assert.match(
        f.message,
        /^partition snapshot: format version 9 is not supported \(this build reads version 1\)$/,
      );
    assert.equal(rebuilt.health, 'degraded');
    assert.equal(bySnapshot.health, 'ok');
  },
);

test(
  'a message removed while its partition is owned but lagging is reported by the owner itself',
  { timeout: 200_000 },
  async () => {
    const lab = await openLab('sc_scale_live_hole', 3, 20);
    const { pool, run } = lab;
    const admin = await streamAdmin(lab);
    const { jsm, stream } = admin;
    const w = startWorker(run, 'live');
    const lock = await pool.connect();
    cleanup.push(async () => {
      await lock.query('ROLLBACK').catch(() => undefined);
      lock.release();
      await stopWorker(w);
      await admin.close();
      await lab.close();
    });
    const events = eventStream(4, 20); // 8 events per tick; EQ_000/002 in partition 0, EQ_001/003 in 1
    await w.ready;
    await publish(run, events.slice(0, 80));
    await until(async () => (await count(pool, SILVER)) >= 80, 'the first 80 events to be scored', 90_000);

    // Both partition loops get stuck writing their next batch (silver locked): the owner lags.
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE mining_operations.anomaly_detection_silver IN ACCESS EXCLUSIVE MODE');
    await publish(run, events.slice(80, 88)); // seqs 81-88, one tick: 4 per partition
    await until(
      async () =>
        (await count(
          pool,
          "SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )) === 2,
      'both partition loops to wait on the lock',
      30_000,
    );
    // Meanwhile the stream loses a message neither loop has fetched (as max_age or a purge would).
    await publish(run, events.slice(88, 104)); // seqs 89-104
    assert.equal(await jsm.streams.deleteMessage(stream, 91), true);
    await lock.query('COMMIT');

    await until(async () => (await count(pool, SILVER)) >= 103, 'the rest to be scored', 90_000);
    await until(() => w.events.holes.length >= 2, 'both partitions to report the hole', 30_000);
    assert.deepEqual(w.events.holes.map((h) => `${h.partition}:${h.from}-${h.to}`).sort(), [
      '0:91-91',
      '1:91-91',
    ]);
    for (const p of [0, 1])
      assert.match(
        w.stderr(),
        new RegExp(
          `delivery hole: stream sequences 91-91 after partition ${p}'s last processed message \\d+ are gone`,
        ),
      );
    assert.equal(w.events.restored.length, 0, 'no takeover happened: the owner found the hole itself');
    const health = (await (await fetch(`http://127.0.0.1:${w.httpPort()}/health`)).json()) as {
      status: string;
    };
    assert.equal(health.status, 'degraded');
    assert.equal(await count(pool, SILVER), 103);
    assert.equal(
      await count(
        pool,
        'SELECT count(*)::text AS n FROM agentic_hmi.scale_delivery_holes WHERE from_seq = 91 AND to_seq = 91',
      ),
      2,
    );
  },
);
