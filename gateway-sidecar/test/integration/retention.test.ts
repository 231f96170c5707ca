/**
 * Retention against real Postgres and the embedded PGlite: partitions ahead of time, rows moved
 * out of the DEFAULT partition, 1-minute aggregates, raw rows kept around anomalies, pruning by
 * age per table, exactly-once inserts on the partitioned tables, and the tables that must never
 * be pruned (recommendations, audit, labels, alerts, notifications).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import {
  aggregateMinutes,
  PRUNABLE,
  runRetention,
  scheduleRetention,
  type RetentionReport,
  type RetentionSettings,
} from '../../src/adapters/pg-retention.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-07-10T12:00:00Z');
const settings: RetentionSettings = {
  bronzeDays: 2,
  silverDays: 4,
  aggregatesDays: 60,
  anomalyContextMinutes: 5,
  anomalyContextDays: 30,
  pipelineMetricsDays: 30,
  partitionsAheadDays: 2,
  aggregateLookbackMinutes: 120,
};

async function bronze(
  db: pg.Pool,
  equipmentId: string,
  tag: string,
  fromMs: number,
  count: number,
  stepMs: number,
  value = (i: number) => i,
): Promise<void> {
  await db.query(
    `INSERT INTO mining_operations.sensor_stream_bronze
       (event_id, tag_path, equipment_id, sensor_type, sensor_value, quality, source_timestamp, received_timestamp)
     SELECT $1 || '@' || ms, $1, $2, 'temperature', v, 'good', to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0)
       FROM unnest($3::float8[], $4::float8[]) AS u(ms, v)
     ON CONFLICT DO NOTHING`,
    [
      tag,
      equipmentId,
      Array.from({ length: count }, (_, i) => fromMs + i * stepMs),
      Array.from({ length: count }, (_, i) => value(i)),
    ],
  );
}

async function silver(
  db: pg.Pool,
  equipmentId: string,
  tag: string,
  ms: number,
  isAnomaly: boolean,
): Promise<void> {
  await db.query(
    `INSERT INTO mining_operations.anomaly_detection_silver
       (event_id, equipment_id, sensor_type, sensor_value, anomaly_score, is_anomaly, severity, timestamp, model_version)
     VALUES ($1, $2, 'temperature', 90, $3, $4, $5, to_timestamp($6 / 1000.0), 'v1') ON CONFLICT DO NOTHING`,
    [`${tag}@${ms}`, equipmentId, isAnomaly ? 0.9 : 0.1, isAnomaly, isAnomaly ? 'high' : 'low', ms],
  );
}

const count = async (db: pg.Pool, table: string, where = 'true', params: unknown[] = []): Promise<number> =>
  Number(
    (await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params)).rows[0]?.n,
  );

const partitions = async (db: pg.Pool, parent: string): Promise<string[]> =>
  (
    await db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = $1::regclass ORDER BY 1`,
      [parent],
    )
  ).rows.map((r) => r.name);

forEachDatabase((target) => {
  test('partitions are created ahead, DEFAULT rows move out, old partitions are aggregated, kept around anomalies, then dropped', async () => {
    const db = target.pool();
    // Five days of raw data at 1 row / 10 s for two sensors, before any daily partition exists.
    const start = NOW - 5 * DAY;
    await bronze(db, 'R1', '[default]R1/T', start, 5 * 8640, 10_000);
    await bronze(db, 'R2', '[default]R2/T', start, 5 * 8640, 10_000, () => 50);
    // Replays are exactly-once on the partitioned table.
    await bronze(db, 'R1', '[default]R1/T', start, 100, 10_000);
    assert.equal(await count(db, 'mining_operations.sensor_stream_bronze'), 2 * 5 * 8640);
    // An anomaly on R1 four days ago (bronze will be pruned there), and scored rows around it.
    const anomalyAt = NOW - 4 * DAY + 3_600_000;
    for (let k = -20; k <= 20; k++) await silver(db, 'R1', '[default]R1/T', anomalyAt + k * 60_000, k === 0);
    await db.query(`INSERT INTO mining_operations.pipeline_metrics (metric_timestamp) VALUES ($1), ($2)`, [
      new Date(NOW - 40 * DAY),
      new Date(NOW - DAY),
    ]);

    const report = await runRetention(db, settings, NOW);

    const bronzeParts = await partitions(db, 'mining_operations.sensor_stream_bronze');
    for (const day of ['20260709', '20260710', '20260711', '20260712'])
      assert.ok(bronzeParts.includes(`sensor_stream_bronze_p${day}`), day);
    assert.ok(bronzeParts.includes('sensor_stream_bronze_default'));
    assert.ok(report.rowsMovedFromDefault > 0, 'yesterday and today were moved out of the default partition');
    // Partitions start at yesterday 00:00 UTC; older rows stay in DEFAULT until pruned by age.
    assert.equal(
      await count(db, 'mining_operations.sensor_stream_bronze_default', 'source_timestamp >= $1', [
        new Date('2026-07-09T00:00:00Z'),
      ]),
      0,
    );
    assert.equal(await count(db, 'mining_operations.sensor_stream_bronze_p20260709'), 2 * 8640);
    // Bronze older than 2 days is gone, the rest is intact.
    const cutoff = new Date(NOW - 2 * DAY);
    assert.equal(
      await count(db, 'mining_operations.sensor_stream_bronze', 'source_timestamp < $1', [cutoff]),
      0,
    );
    assert.equal(
      await count(db, 'mining_operations.sensor_stream_bronze', 'source_timestamp >= $1', [cutoff]),
      2 * 2 * 8640,
    );
    // Pruned minutes were aggregated before deletion; of the kept raw data, the lookback window.
    assert.equal(await count(db, 'mining_operations.sensor_minute_aggregates'), 2 * (3 * 1440 + 120));
    const agg = await db.query<{
      sample_count: number;
      min_value: number;
      max_value: number;
      avg_value: number;
      first_value: number;
      last_value: number;
    }>(
      `SELECT sample_count, min_value, max_value, avg_value, first_value, last_value FROM mining_operations.sensor_minute_aggregates
        WHERE tag_path = '[default]R1/T' AND minute_timestamp = $1`,
      [new Date(start + 60_000)],
    );
    assert.deepEqual(agg.rows[0], {
      sample_count: 6,
      min_value: 6,
      max_value: 11,
      avg_value: 8.5,
      first_value: 6,
      last_value: 11,
    });
    // Raw rows within ±5 min of the anomaly on R1 are kept (61 samples at 10 s), none of R2.
    const kept = await count(db, 'mining_operations.sensor_stream_bronze_anomaly_context');
    assert.equal(kept, 61);
    assert.equal(
      await count(db, 'mining_operations.sensor_stream_bronze_anomaly_context', "equipment_id = 'R2'"),
      0,
    );
    // Silver (4 days) keeps its rows; pipeline_metrics older than 30 days are pruned.
    assert.equal(await count(db, 'mining_operations.anomaly_detection_silver'), 41);
    assert.equal(await count(db, 'mining_operations.pipeline_metrics'), 1);

    // Three days later silver around the anomaly is pruned too, but its context is kept.
    await runRetention(db, settings, NOW + 3 * DAY);
    assert.equal(
      await count(db, 'mining_operations.anomaly_detection_silver', 'timestamp < $1', [new Date(NOW - DAY)]),
      0,
    );
    assert.equal(
      await count(db, 'mining_operations.anomaly_detection_silver_anomaly_context'),
      11,
      '±5 minutes of scored rows',
    );
    assert.equal(await count(db, 'mining_operations.sensor_stream_bronze_anomaly_context'), 61);
    // Every minute of the five days now has its aggregate (6 samples each), though no raw row is left.
    assert.equal(await count(db, 'mining_operations.sensor_stream_bronze'), 0);
    assert.equal(
      await count(db, 'mining_operations.sensor_minute_aggregates'),
      2 * 5 * 1440,
      'aggregates outlive raw rows',
    );
    assert.equal(await count(db, 'mining_operations.sensor_minute_aggregates', 'sample_count <> 6'), 0);

    // A second run at the same time changes nothing.
    const again = await runRetention(db, settings, NOW + 3 * DAY);
    assert.deepEqual([again.partitionsCreated, again.partitionsDropped, again.contextRowsKept], [[], [], 0]);
  });

  test('aggregates are recomputed, not double counted, and late events are included', async () => {
    const db = target.pool();
    const t = NOW + 10 * 60_000;
    await bronze(db, 'R3', '[default]R3/T', t, 3, 1000, () => 10);
    await aggregateMinutes(db, t, t + 60_000);
    await aggregateMinutes(db, t, t + 60_000);
    await bronze(db, 'R3', '[default]R3/T', t + 30_000, 1, 1000, () => 40);
    await aggregateMinutes(db, t, t + 60_000);
    const { rows } = await db.query<{ sample_count: number; max_value: number; sum_squares: number }>(
      `SELECT sample_count, max_value, sum_squares FROM mining_operations.sensor_minute_aggregates WHERE tag_path = '[default]R3/T'`,
    );
    assert.deepEqual(rows, [{ sample_count: 4, max_value: 40, sum_squares: 1900 }]);
  });

  test('recommendations, audit rows, labels, alerts and notifications are never pruned', async () => {
    const db = target.pool();
    const old = new Date(NOW - 3650 * DAY);
    await db.query(
      `INSERT INTO agentic_hmi.agent_recommendations (recommendation_id, equipment_id, issue_type, severity, anomaly_score, confidence_score,
         recommendation_text, created_timestamp, anomaly_timestamp, last_seen_timestamp, max_anomaly_score, dedup_key)
       VALUES ('old-rec', 'R1', 'overheating', 'high', 0.9, 0.8, 'cool it', $1, $1, $1, 0.9, 'old-key')`,
      [old],
    );
    await db.query(
      `INSERT INTO agentic_hmi.recommendation_audit (recommendation_id, action, actor, at) VALUES ('old-rec', 'created', 'system', $1)`,
      [old],
    );
    await db.query(
      `INSERT INTO mining_operations.critical_alerts (alert_id, equipment_id, sensor_type, tag_path, sensor_value, threshold, level, message, alert_timestamp)
                    VALUES ('old-alert', 'R1', 'temperature', 't', 95, 90, 'emergency', 'hot', $1)`,
      [old],
    );
    await db.query(
      `INSERT INTO agentic_hmi.notifications (notification_id, kind, dedup_key, subject_id, equipment_id, area, severity, title, body, created_at, last_notified_at)
                    VALUES ('old-n', 'critical_alert', 'k', 'old-alert', 'R1', 'A', 'critical', 't', 'b', $1, $1)`,
      [old],
    );
    // Labels may live in a table another migration adds; count every table outside PRUNABLE.
    const { rows: tables } = await db.query<{ t: string }>(
      `SELECT schemaname || '.' || tablename AS t FROM pg_tables WHERE schemaname IN ('agentic_hmi', 'mining_operations', 'public')`,
    );
    const keep = tables
      .map((r) => r.t)
      .filter((t) => !PRUNABLE.has(t) && !/_(p\d{8}|m\d{6}|default)$/.test(t));
    assert.ok(
      keep.includes('agentic_hmi.agent_recommendations') && keep.includes('agentic_hmi.recommendation_audit'),
    );
    const before = new Map<string, number>();
    for (const t of keep) before.set(t, await count(db, t));
    await runRetention(
      db,
      {
        ...settings,
        bronzeDays: 1,
        silverDays: 1,
        aggregatesDays: 1,
        anomalyContextDays: 1,
        pipelineMetricsDays: 1,
      },
      NOW + 4000 * DAY,
    );
    for (const t of keep) assert.equal(await count(db, t), before.get(t), `${t} was pruned`);
    assert.ok(![...PRUNABLE].some((t) => t.startsWith('agentic_hmi.')), 'nothing in agentic_hmi is prunable');
  });
  test('scheduleRetention runs at once, reports, and stop() waits for the run in progress', async () => {
    const reports: RetentionReport[] = [];
    const errors: unknown[] = [];
    const handle = scheduleRetention(target.pool(), settings, {
      intervalMs: 3_600_000,
      now: () => NOW + 10 * DAY,
      onReport: (r) => reports.push(r),
      onError: (err) => errors.push(err),
    });
    await handle.stop();
    assert.deepEqual(errors, []);
    assert.equal(reports.length, 1);
    assert.ok(reports[0]?.partitionsCreated.includes('sensor_stream_bronze_p20260720'));
  });
});
