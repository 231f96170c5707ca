/**
 * Every query in docs/queries.md runs on both databases after realistic rows went in through the
 * sidecar's own writers (event sink through the resilient sink, minute rollup), and returns
 * sensible answers. Recommendations are inserted with plain SQL shaped like the store's rows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBatcher, registerEventKinds } from '../../src/adapters/event-batcher.ts';
import { PgEventWriter } from '../../src/adapters/pg-event-sink.ts';
import { PgMetricsRollup } from '../../src/adapters/pg-metrics-rollup.ts';
import { ResilientSink } from '../../src/adapters/resilient-sink.ts';
import { createLogger } from '../../src/log.ts';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import { alertRow, bronzeRows, silverRows } from '../fixtures/event-rows.ts';
import { readDocQueries } from '../fixtures/seed-queries.ts';

const logger = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'sc-seedq-'));
after(() => rmSync(root, { recursive: true, force: true }));
const queries = readDocQueries();

test('docs/queries.md holds every seed query family', () => {
  assert.deepEqual(queries.map((q) => q.name).sort(), [
    'ai_recommendations',
    'anomalies_detected',
    'critical_alerts',
    'lakebase_sync',
    'ml_scoring',
    'model_effectiveness',
    'pipeline_health',
    'pipeline_processing',
    'streaming_progress',
    'sync_lag',
  ]);
  for (const q of queries) {
    assert.doesNotMatch(
      q.sql,
      /CURRENT_TIMESTAMP\(\)|INTERVAL \d|\bmain\.|\blakebase\./,
      `${q.name} still has Databricks syntax`,
    );
  }
});

const RECS = [
  // id, issue, severity, status, confidence, created minutes ago, latency s, decided minutes ago
  ['r1', 'cooling_degradation', 'high', 'pending', 0.82, 5, 4, null],
  ['r2', 'cooling_degradation', 'high', 'approved', 0.78, 20, 6, 10],
  ['r3', 'bearing_wear', 'medium', 'rejected', 0.64, 40, 3, 30],
  ['r4', 'cooling_degradation', 'high', 'executed', 0.9, 90, 5, 80],
  ['r5', 'overheating', 'critical', 'pending', 0.95, 2, 1, null],
] as const;

forEachDatabase((target) => {
  // Set when the database is open: starting the embedded one can take many seconds under load.
  let now = 0;
  before(async () => {
    now = Date.now();
    const pool = target.pool();
    const sink = new ResilientSink({ dir: join(root, target.kind), logger });
    registerEventKinds(sink, new PgEventWriter(pool));
    sink.start();
    const batcher = new EventBatcher(sink, { batchRows: 100 });
    const bronze = bronzeRows(300, now);
    await batcher.add(bronze, silverRows(bronze, 25));
    await batcher.flush();
    await batcher.writeAlert(alertRow(now - 60_000, 1));
    await batcher.writeAlert(alertRow(now - 30_000, 2));
    await sink.close();
    for (const [id, issue, severity, status, conf, agoMin, latencyS, decidedAgo] of RECS) {
      const created = new Date(now - agoMin * 60_000);
      await pool.query(
        `INSERT INTO agentic_hmi.agent_recommendations
           (recommendation_id, equipment_id, issue_type, severity, anomaly_score, confidence_score, recommendation_text,
            status, created_timestamp, anomaly_timestamp, last_seen_timestamp, max_anomaly_score, decided_by, decided_at, dedup_key)
         VALUES ($1, 'REACTOR_01', $2, $3, 0.87, $4, 'Cooling system degradation detected. Reduce throughput by 20%',
                 $5, $6, $7, $6, 0.87, $8, $9, $1)`,
        [
          id,
          issue,
          severity,
          conf,
          status,
          created,
          new Date(created.getTime() - latencyS * 1000),
          decidedAgo === null ? null : 'op1',
          decidedAgo === null ? null : new Date(now - decidedAgo * 60_000),
        ],
      );
      await pool.query(
        `INSERT INTO mining_operations.ai_recommendations_gold
           (recommendation_id, equipment_id, issue_type, severity, anomaly_score, confidence_score, recommendation_text, created_timestamp)
         VALUES ($1, 'REACTOR_01', $2, $3, 0.87, $4, 'Reduce throughput by 20%', $5)`,
        [id, issue, severity, conf, created],
      );
    }
    let events = 0;
    const rollup = new PgMetricsRollup({
      db: pool,
      counters: () => ({ events, anomalies: events / 25 }),
      clock: { now: () => now },
      logger,
    });
    events = 300;
    await rollup.rollupNow();
  });

  const run = async (name: string): Promise<Record<string, unknown>[]> => {
    const q = queries.find((x) => x.name === name);
    assert.ok(q, `query ${name} is in the doc`);
    return (await target.pool().query<Record<string, unknown>>(q.sql)).rows;
  };

  test('verify pipeline: processing, anomalies, recommendations, pending', async () => {
    assert.equal(Number((await run('pipeline_processing'))[0]?.count), 300);
    const anomalies = await run('anomalies_detected');
    assert.equal(anomalies.length, 10);
    assert.ok(anomalies.every((r) => r.is_anomaly === true));
    const ts = anomalies.map((r) => (r.timestamp as Date).getTime());
    assert.deepEqual(
      ts,
      [...ts].sort((a, b) => b - a),
      'newest first',
    );
    assert.deepEqual((await run('ai_recommendations')).map((r) => r.recommendation_id).sort(), [
      'r1',
      'r2',
      'r3',
      'r5',
    ]);
    assert.equal(Number((await run('lakebase_sync'))[0]?.count), 2);
  });

  test('pipeline health dashboard shows the minute rollup', async () => {
    const rows = await run('pipeline_health');
    assert.equal(rows.length, 1);
    const r = rows[0] as Record<string, number | Date | null>;
    assert.equal((r.metric_timestamp as Date).getTime(), now - (now % 60_000));
    assert.ok((r.events_per_hour as number) > 0);
    assert.ok((r.anomalies_per_hour as number) > 0);
    assert.equal(r.recommendations_per_hour, 4, 'r1, r2, r3, r5 were created in the last hour');
    assert.equal(Number(r.avg_approval_rate), 2 / 3, 'r2 approved, r4 executed, r3 rejected');
    assert.ok(Math.abs(Number(r.avg_recommendation_latency_seconds) - (4 + 6 + 3 + 1) / 4) < 1e-6);
  });

  test('model effectiveness groups by issue and severity, largest first', async () => {
    const rows = await run('model_effectiveness');
    assert.equal(rows[0]?.issue_type, 'cooling_degradation');
    assert.equal(Number(rows[0]?.total_recs), 3);
    assert.ok(Math.abs(Number(rows[0]?.approval_rate) - 1 / 3) < 1e-9);
    assert.ok(Math.abs(Number(rows[0]?.avg_confidence) - (0.82 + 0.78 + 0.9) / 3) < 1e-9);
    assert.equal(rows.length, 3);
  });

  test('critical alerts of the last hour, newest first', async () => {
    const rows = await run('critical_alerts');
    assert.equal(rows.length, 2);
    assert.ok((rows[0]?.alert_timestamp as Date).getTime() > (rows[1]?.alert_timestamp as Date).getTime());
    assert.equal(rows[0]?.level, 'emergency');
  });

  test('debug queries: streaming progress, ML scoring, sync lag', async () => {
    const recent = await run('streaming_progress');
    assert.ok(recent.length > 0 && recent.length <= 61, `readings of the last minute: ${recent.length}`);
    const scoring = await run('ml_scoring');
    assert.equal(scoring.length, 12, '300 rows with every 25th anomalous');
    assert.ok(scoring.every((r) => r.is_anomaly === true && typeof r.anomaly_score === 'number'));
    const lag = (await run('sync_lag'))[0];
    assert.ok(lag?.latest_recommendation instanceof Date);
    const lagS = Number(lag?.lag_seconds);
    assert.ok(lagS >= 100 && lagS < 3600, `lag ${lagS}s: newest recommendation was created 2 minutes ago`);
  });
});
