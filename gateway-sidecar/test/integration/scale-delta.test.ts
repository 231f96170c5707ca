/**
 * Incremental checkpoints through the scale worker processes (real NATS JetStream + Postgres):
 * a worker checkpoints after every batch (a base, then deltas), stops inside a fault; the newest
 * delta of partition 0 is corrupted; the next owner restores partition 1 from base + deltas,
 * reports the corrupt delta of partition 0 (stdout `restoreFailed`, /health degraded), resumes that
 * partition at the chain's last good checkpoint, and every event is scored exactly once with the
 * same score, flag and features as an uninterrupted single-worker run.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import {
  countOf as count,
  eventStream,
  openScaleLab,
  publish,
  SCORED_EVENTS_SQL as SILVER,
  startWorker,
  stopWorker,
  until,
  type WorkerProcess,
} from '../fixtures/scale-harness.ts';
import type { TagEvent } from '../../src/domain/tag-event.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

type Rows = Map<string, { score: number; anomaly: boolean; features: string }>;

async function silverRows(pool: pg.Pool): Promise<Rows> {
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

async function runLab(
  name: string,
  events: readonly TagEvent[],
  splitAt: number,
  between: (pool: pg.Pool) => Promise<void>,
): Promise<{ rows: Rows; second?: WorkerProcess; health?: string }> {
  const lab = await openScaleLab(name, 2, {
    equipment: 4,
    partitions: 2,
    batchSize: 7,
    checkpointEveryMs: 0,
    httpPort: 0,
  });
  const workers: WorkerProcess[] = [];
  try {
    const a = startWorker(lab.run, `${name}-a`);
    workers.push(a);
    await a.ready;
    await publish(lab.run, events.slice(0, splitAt));
    await until(async () => (await count(lab.pool, SILVER)) >= splitAt, `${name}: first part scored`, 90_000);
    if (splitAt === events.length) return { rows: await silverRows(lab.pool) };
    await stopWorker(a);
    await between(lab.pool);
    await publish(lab.run, events.slice(splitAt));
    const b = startWorker(lab.run, `${name}-b`);
    workers.push(b);
    await b.ready;
    await until(
      async () => (await count(lab.pool, SILVER)) >= events.length,
      `${name}: the rest scored`,
      90_000,
    );
    const health = (await (await fetch(`http://127.0.0.1:${b.httpPort()}/health`)).json()) as {
      status: string;
    };
    assert.equal(
      await count(lab.pool, 'SELECT count(*)::text AS n FROM mining_operations.anomaly_detection_silver'),
      events.length,
      'no event scored twice',
    );
    return { rows: await silverRows(lab.pool), second: b, health: health.status };
  } finally {
    for (const w of workers) await stopWorker(w);
    await lab.close();
  }
}

test(
  'scale workers: takeover from base + deltas, a corrupt delta reported and re-processed from the last good checkpoint, scores equal an uninterrupted run',
  { timeout: 280_000 },
  async () => {
    const events = eventStream(4, 40); // EQ_001 runs hot from tick 24 to 30
    const splitAt = 27 * 8; // inside the fault
    const reference = (await runLab('sc_delta_ref', events, events.length, async () => undefined)).rows;
    assert.equal(reference.size, events.length);
    assert.ok(
      [...reference.values()].some((r) => r.anomaly),
      'the reference flagged no anomaly',
    );

    let chain: { partition_no: number; seq: string; prev_seq: string }[] = [];
    const got = await runLab('sc_delta_handover', events, splitAt, async (pool) => {
      ({ rows: chain } = await pool.query<{ partition_no: number; seq: string; prev_seq: string }>(
        'SELECT partition_no, seq::text AS seq, prev_seq::text AS prev_seq FROM agentic_hmi.scale_partition_checkpoint_deltas ORDER BY partition_no, seq',
      ));
      assert.ok(
        chain.some((d) => d.partition_no === 0) && chain.some((d) => d.partition_no === 1),
        `both partitions must hold deltas: ${JSON.stringify(chain)}`,
      );
      const r = await pool.query(
        `UPDATE agentic_hmi.scale_partition_checkpoint_deltas SET delta = set_byte(delta, 60, get_byte(delta, 60) # 1)
        WHERE partition_no = 0 AND seq = (SELECT max(seq) FROM agentic_hmi.scale_partition_checkpoint_deltas WHERE partition_no = 0)`,
      );
      assert.equal(r.rowCount, 1);
    });
    const newest = (p: number): { seq: string; prev_seq: string } =>
      chain.filter((d) => d.partition_no === p).at(-1) as { seq: string; prev_seq: string };
    assert.deepEqual(
      got.second?.events.restored.map((r) => [r.partition, r.seq]).sort(),
      [
        [0, Number(newest(0).prev_seq)],
        [1, Number(newest(1).seq)],
      ],
      'partition 1 resumes at its chain tip, partition 0 at the checkpoint before its corrupt delta',
    );
    assert.deepEqual(
      got.second?.events.restoreFailed.map((f) => f.partition),
      [0],
    );
    assert.match(
      got.second?.events.restoreFailed[0]?.message ?? '',
      /^partition delta: checksum mismatch \(stored [0-9a-f]+, computed [0-9a-f]+\): the delta is corrupt$/,
    );
    assert.match(got.second?.stderr() ?? '', /checkpoint delta cannot be applied/);
    assert.equal(got.health, 'degraded');
    assert.equal(got.rows.size, events.length);
    for (const [id, ref] of reference)
      assert.deepEqual(got.rows.get(id), ref, `event ${id} scored differently`);
  },
);

test(
  'scale worker process: config scale.checkpointFullEvery 1 reaches the worker (every checkpoint a full base, no delta rows)',
  { timeout: 150_000 },
  async () => {
    const events = eventStream(4, 30);
    const lab = await openScaleLab('sc_delta_full', 2, {
      equipment: 4,
      partitions: 2,
      batchSize: 7,
      checkpointEveryMs: 0,
      httpPort: 0,
      scale: { checkpointFullEvery: 1 },
    });
    try {
      const w = startWorker(lab.run, 'sc-delta-full');
      try {
        await w.ready;
        // Three bursts, each scored and checkpointed before the next: with the default (a base every
        // 24 checkpoints) the second and third checkpoints of a partition are deltas.
        const third = Math.ceil(events.length / 3);
        for (let k = 1; k <= 3; k++) {
          const upTo = Math.min(events.length, k * third);
          await publish(lab.run, events.slice((k - 1) * third, upTo));
          await until(async () => (await count(lab.pool, SILVER)) >= upTo, `burst ${k} scored`, 90_000);
          await until(
            async () =>
              (await count(
                lab.pool,
                `SELECT count(*)::text AS n FROM agentic_hmi.scale_partition_checkpoints WHERE seq >= ${k * 50}`,
              )) === 2,
            `burst ${k} checkpointed`,
            30_000,
          );
        }
        assert.equal(
          await count(
            lab.pool,
            'SELECT count(*)::text AS n FROM agentic_hmi.scale_partition_checkpoint_deltas',
          ),
          0,
        );
        assert.equal(
          await count(
            lab.pool,
            'SELECT count(*)::text AS n FROM agentic_hmi.scale_partition_checkpoints WHERE base_seq = seq',
          ),
          2,
        );
        // The worker's /metrics says so too (the kind label comes through the worker's wiring).
        const metrics = await (await fetch(`http://127.0.0.1:${w.httpPort()}/metrics`)).text();
        assert.match(metrics, /^scale_checkpoints_total\{kind="base",partition="[01]"\} [1-9]/m);
        assert.doesNotMatch(metrics, /scale_checkpoints_total\{kind="delta"/);
      } finally {
        await stopWorker(w);
      }
    } finally {
      await lab.close();
    }
  },
);
