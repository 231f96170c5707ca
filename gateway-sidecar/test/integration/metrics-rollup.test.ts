import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgMetricsRollup } from '../../src/adapters/pg-metrics-rollup.ts';
import { createLogger } from '../../src/log.ts';
import { forEachDatabase } from '../fixtures/db-targets.ts';

const logger = createLogger({ level: 'silent' });

forEachDatabase((target) => {
  test('one row per minute: rates from counter deltas, re-running a minute updates it', async () => {
    const pool = target.pool();
    let nowMs = Date.UTC(2026, 10, 29, 8, 0, 0);
    let counters = { events: 0, anomalies: 0, recommendations: 0 };
    const rollup = new PgMetricsRollup({
      db: pool,
      counters: () => counters,
      extra: () => ({ floodWindowsPct: 0, spoolDepth: 3 }),
      clock: { now: () => nowMs },
      logger,
    });
    nowMs += 60_000;
    counters = { events: 600, anomalies: 6, recommendations: 1 };
    const first = await rollup.rollupNow();
    assert.equal(first.eventsPerHour, 36_000);
    assert.equal(first.anomaliesPerHour, 360);
    assert.equal(first.recommendationsPerHour, 60);
    assert.equal(first.avgApprovalRate, null, 'nothing decided yet');
    nowMs += 30_000; // 08:01:30: still the 08:01 minute
    counters = { events: 900, anomalies: 6, recommendations: 1 };
    const again = await rollup.rollupNow();
    assert.equal(again.metricTimestamp.getTime(), first.metricTimestamp.getTime());
    assert.equal(again.eventsPerHour, 36_000);
    assert.equal(again.anomaliesPerHour, 0);
    nowMs += 60_000;
    await rollup.rollupNow();
    const { rows } = await pool.query<{
      metric_timestamp: Date;
      events_per_hour: number;
      extra: Record<string, number>;
    }>(
      'SELECT metric_timestamp, events_per_hour, extra FROM mining_operations.pipeline_metrics ORDER BY metric_timestamp',
    );
    assert.deepEqual(
      rows.map((r) => r.metric_timestamp.toISOString()),
      ['2026-11-29T08:01:00.000Z', '2026-11-29T08:02:00.000Z'],
    );
    assert.equal(rows[0]?.events_per_hour, 36_000, 'the second rollup of 08:01 replaced the first');
    assert.equal(rows[0]?.extra.spoolDepth, 3);
  });

  test('start/stop writes rows on the minute timer and stops cleanly', async () => {
    const pool = target.pool();
    await pool.query('TRUNCATE mining_operations.pipeline_metrics');
    const rollup = new PgMetricsRollup({
      db: pool,
      counters: () => ({ events: 1, anomalies: 0 }),
      clock: { now: () => Date.now() },
      logger,
      intervalMs: 200,
    });
    rollup.start();
    const deadline = Date.now() + 20_000;
    let n = 0;
    while (n === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      n = Number(
        (await pool.query<{ n: string }>('SELECT count(*) AS n FROM mining_operations.pipeline_metrics'))
          .rows[0]?.n,
      );
    }
    await rollup.stop();
    assert.ok(n >= 1, 'the timer wrote a row');
    assert.equal(rollup.failures, 0);
  });
});
