/**
 * Aggregate-only write mode of the scale workers (docs/scale-out.md, `scale.writeMode: aggregates`)
 * on the real NATS JetStream + Postgres. A reference worker writes every row; an aggregate-only
 * worker is stopped inside a fault and a second one takes over from its snapshot. The second run
 * must write no bronze row, silver rows exactly for the reference's anomalies and their context
 * (identical scores and features), and per sensor and minute the aggregates of the reference's raw
 * rows.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import {
  countOf,
  eventStream,
  openScaleLab,
  publish,
  startWorker,
  stopWorker,
  until,
  type ScaleLab,
  type WorkerProcess,
} from '../fixtures/scale-harness.ts';
import { eventIdOf } from '../../src/domain/detection.ts';
import type { TagEvent } from '../../src/domain/tag-event.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

const CONTEXT_MS = 5_000;
const events = eventStream(4, 150); // 1,200 events over 150 s (3 minutes); EQ_001 hot from tick 90 to 112
const splitAt = 100 * 8; // inside the fault

async function open(name: string, scale: Record<string, unknown>): Promise<ScaleLab> {
  const lab = await openScaleLab(name, 2, {
    equipment: 4,
    partitions: 2,
    batchSize: 25,
    checkpointEveryMs: 0,
    scale,
  });
  cleanup.push(() => lab.close());
  return lab;
}

interface Minute {
  count: number;
  good: number;
  min: number;
  max: number;
  avg: number;
  squares: number;
  first: number;
  last: number;
}

async function minutes(pool: pg.Pool, sql: string): Promise<Map<string, Minute>> {
  const { rows } = await pool.query<Minute & { tag_path: string; minute: string }>(sql);
  return new Map(
    rows.map((r) => [
      `${r.tag_path}@${r.minute}`,
      {
        count: Number(r.count),
        good: Number(r.good),
        min: r.min,
        max: r.max,
        avg: r.avg,
        squares: r.squares,
        first: r.first,
        last: r.last,
      },
    ]),
  );
}

test(
  'aggregate-only mode across a handover: no bronze, silver = anomalies + context, each closed minute = the aggregate of its raw rows',
  { timeout: 280_000 },
  async () => {
    // Reference: every row.
    const ref = await open('sc_agg_ref', {});
    const solo = startWorker(ref.run, 'ref');
    cleanup.push(() => stopWorker(solo));
    await solo.ready;
    await publish(ref.run, events);
    await until(
      async () =>
        (await countOf(
          ref.pool,
          'SELECT count(*)::text AS n FROM mining_operations.anomaly_detection_silver',
        )) >= events.length,
      'reference run',
      120_000,
    );
    await stopWorker(solo);
    const { rows: refSilver } = await ref.pool.query<{ event_id: string; is_anomaly: boolean; row: string }>(
      `SELECT event_id, is_anomaly, json_build_array(anomaly_score, is_anomaly, severity, sensor_value, features, explanation)::text AS row
       FROM mining_operations.anomaly_detection_silver`,
    );
    const refById = new Map(refSilver.map((r) => [r.event_id, r]));
    assert.ok(
      refSilver.some((r) => r.is_anomaly),
      'the reference flagged no anomaly',
    );
    // Expected silver rows: each anomaly and its equipment's readings up to CONTEXT_MS after it.
    const expectedIds = new Set<string>();
    const until_ = new Map<string, number>();
    for (const e of events) {
      const id = eventIdOf(e.tagPath, e.sourceTimestampMs);
      const eq = e.tagPath.split('/')[1] as string;
      const anomalous = refById.get(id)?.is_anomaly === true;
      if (anomalous) until_.set(eq, Math.max(until_.get(eq) ?? -Infinity, e.sourceTimestampMs + CONTEXT_MS));
      if (anomalous || e.sourceTimestampMs <= (until_.get(eq) ?? -Infinity)) expectedIds.add(id);
    }
    // With this untrained test plant the shipped model flags nearly every reading after the first
    // ticks and the alarm gate stays on, so the context adds no row here (the context rule itself is
    // covered by src/domain/minute-aggregates.test.ts); what is checked is that the mode keeps exactly
    // the expected rows and drops the rest.
    assert.ok(expectedIds.size < events.length, 'every event is anomalous: the mode would drop nothing');
    const expectedMinutes = await minutes(
      ref.pool,
      `SELECT tag_path, extract(epoch FROM date_trunc('minute', source_timestamp))::bigint::text AS minute, count(*) AS count,
            count(*) FILTER (WHERE quality = 'good') AS good, min(sensor_value) AS min, max(sensor_value) AS max,
            avg(sensor_value) AS avg, sum(sensor_value * sensor_value) AS squares,
            (array_agg(sensor_value ORDER BY source_timestamp))[1] AS first, (array_agg(sensor_value ORDER BY source_timestamp DESC))[1] AS last
       FROM mining_operations.sensor_stream_bronze GROUP BY 1, 2`,
    );
    assert.equal(expectedMinutes.size, 8 * 3, '8 sensors × 3 minutes');
    // Each sensor's last minute stays open: the stream time never gets 60 s past its end.
    const lastMinute = String(
      Math.floor((events[events.length - 1] as TagEvent).sourceTimestampMs / 60_000) * 60,
    );
    for (const k of [...expectedMinutes.keys()]) if (k.endsWith(`@${lastMinute}`)) expectedMinutes.delete(k);
    assert.equal(expectedMinutes.size, 8 * 2);

    // Aggregate-only, handed over inside the fault.
    const agg = await open('sc_agg_run', { writeMode: 'aggregates', anomalyContextMs: CONTEXT_MS });
    const workers: WorkerProcess[] = [];
    cleanup.push(async () => {
      for (const w of workers) await stopWorker(w);
    });
    const a = startWorker(agg.run, 'agg-a');
    workers.push(a);
    await a.ready;
    await publish(agg.run, events.slice(0, splitAt));
    await until(() => a.processed() >= splitAt, 'first worker to commit the first part', 120_000);
    await stopWorker(a);
    await publish(agg.run, events.slice(splitAt));
    const b = startWorker(agg.run, 'agg-b');
    workers.push(b);
    await b.ready;
    await until(() => b.processed() >= events.length - splitAt, 'second worker to commit the rest', 120_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(
      b.events.restored.length,
      2,
      'the second worker must restore both partitions from snapshots',
    );
    assert.deepEqual(b.events.restoreFailed, []);

    assert.equal(
      await countOf(agg.pool, 'SELECT count(*)::text AS n FROM mining_operations.sensor_stream_bronze'),
      0,
      'aggregate-only mode wrote bronze rows',
    );
    const { rows: silver } = await agg.pool.query<{ event_id: string; row: string }>(
      `SELECT event_id, json_build_array(anomaly_score, is_anomaly, severity, sensor_value, features, explanation)::text AS row
       FROM mining_operations.anomaly_detection_silver`,
    );
    assert.deepEqual(
      silver.map((r) => r.event_id).sort(),
      [...expectedIds].sort(),
      'silver rows are not exactly the anomalies and their context',
    );
    for (const r of silver)
      assert.equal(
        r.row,
        refById.get(r.event_id)?.row,
        `silver row ${r.event_id} differs from the reference`,
      );

    const got = await minutes(
      agg.pool,
      `SELECT tag_path, extract(epoch FROM minute_timestamp)::bigint::text AS minute, sample_count AS count, good_count AS good,
            min_value AS min, max_value AS max, avg_value AS avg, sum_squares AS squares, first_value AS first, last_value AS last
       FROM mining_operations.sensor_minute_aggregates`,
    );
    assert.deepEqual([...got.keys()].sort(), [...expectedMinutes.keys()].sort());
    for (const [k, want] of expectedMinutes) {
      const g = got.get(k) as Minute;
      assert.deepEqual(
        [g.count, g.good, g.min, g.max, g.first, g.last],
        [want.count, want.good, want.min, want.max, want.first, want.last],
        `minute ${k}`,
      );
      // Sums are added in another order than Postgres adds them: equal to rounding.
      assert.ok(
        Math.abs(g.avg - want.avg) <= 1e-9 * Math.abs(want.avg),
        `minute ${k} avg ${g.avg} vs ${want.avg}`,
      );
      assert.ok(
        Math.abs(g.squares - want.squares) <= 1e-9 * Math.abs(want.squares),
        `minute ${k} squares ${g.squares} vs ${want.squares}`,
      );
    }
  },
);
