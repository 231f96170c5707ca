/** Exactly once and dedup on the real databases: upsert by dedup key, replay, gold row, change log. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import {
  buildHarness,
  coolingEvent,
  feedSetpoint,
  REACTOR_THROUGHPUT,
  T0,
} from '../fixtures/recommendation-harness.ts';
import type { Change } from '../../src/app/recommendation-service.ts';

const MIN = 60_000;

forEachDatabase((db) => {
  test('repeats inside the dedup window update one row; the next window creates another', async () => {
    const h = await buildHarness(db.pool());
    feedSetpoint(h, REACTOR_THROUGHPUT, 80);
    const seen: Change[] = [];
    h.service.subscribe((c) => seen.push(c));
    const t = T0 + 1_000;
    assert.equal(await h.service.onScored(coolingEvent(h, t, 0.8)), 1);
    assert.equal(await h.service.onScored(coolingEvent(h, t + 2 * MIN, 0.95)), 1);
    assert.equal(await h.service.onScored(coolingEvent(h, t + 3 * MIN, 0.85)), 1);
    const { items, total } = await h.service.list({ equipmentId: 'REACTOR_01', limit: 50, offset: 0 });
    assert.equal(total, 1);
    const rec = items[0]!;
    assert.equal(rec.issueType, 'cooling_degradation');
    assert.equal(rec.occurrenceCount, 6); // 2 anomalous events per occurrence
    assert.equal(rec.maxAnomalyScore, 0.95);
    assert.equal(rec.lastSeenAt, new Date(T0).toISOString()); // processing time from the test clock
    assert.equal(rec.anomalyAt, new Date(t).toISOString());
    assert.equal(rec.version, 1, 'repeats do not invalidate a decision in progress');
    assert.match(rec.text, /^Cooling degradation on REACTOR_01: reduce throughput 20 % \(80 % → 64 %\)/);
    assert.equal(seen.length, 3);
    assert.ok(seen[0]!.seq < seen[1]!.seq && seen[1]!.seq < seen[2]!.seq);

    // next 5-minute window → a second recommendation
    await h.service.onScored(coolingEvent(h, T0 + 5 * MIN + 1_000));
    assert.equal((await h.service.list({ equipmentId: 'REACTOR_01', limit: 50, offset: 0 })).total, 2);

    const gold = await db
      .pool()
      .query(
        'SELECT recommendation_id, anomaly_score, issue_type FROM mining_operations.ai_recommendations_gold ORDER BY created_timestamp',
      );
    assert.equal(gold.rowCount, 2);
    assert.ok(
      gold.rows.some(
        (r: { recommendation_id: string; anomaly_score: number }) =>
          r.recommendation_id === rec.id && r.anomaly_score === 0.95,
      ),
    );
  });

  test('a replayed batch changes nothing (same event ids)', async () => {
    const h = await buildHarness(db.pool());
    feedSetpoint(h, REACTOR_THROUGHPUT, 80);
    const t = T0 + 60 * MIN;
    const batch = coolingEvent(h, t);
    assert.equal(await h.service.onScored(batch), 1);
    const before = (await h.service.list({ equipmentId: 'REACTOR_01', limit: 50, offset: 0 })).items.find(
      (r) => r.anomalyAt === new Date(t).toISOString(),
    )!;
    const seqBefore = (await h.service.changesSince(0, 10_000)).length;
    // a fresh process (new service, empty caches) replays the same events
    const h2 = await buildHarness(db.pool());
    assert.equal(await h2.service.onScored(batch), 0);
    const after = (await h2.service.get(before.id))!.recommendation;
    assert.equal(after.occurrenceCount, before.occurrenceCount);
    assert.equal((await h2.service.changesSince(0, 10_000)).length, seqBefore);
    const history = (await h2.service.get(before.id))!.history;
    assert.deepEqual(
      history.map((e) => e.action),
      ['created'],
    );
  });

  test('changesSince resumes after a seq; non-anomalies never create rows', async () => {
    const h = await buildHarness(db.pool());
    const all = await h.service.changesSince(0, 10_000);
    assert.ok(all.length >= 2);
    const mid = all[0]!.seq;
    const rest = await h.service.changesSince(mid, 10_000);
    assert.deepEqual(
      rest.map((c) => c.seq),
      all.slice(1).map((c) => c.seq),
    );
    assert.equal((await h.service.changesSince(mid, 1)).length, 1);
    const calm = coolingEvent(h, T0 + 120 * MIN).map((s) => ({ ...s, isAnomaly: false }));
    assert.equal(await h.service.onScored(calm), 0);
  });

  test('critical alerts are written once and pushed with a seq', async () => {
    const h = await buildHarness(db.pool());
    const pushed: Change[] = [];
    h.service.subscribe((c) => pushed.push(c));
    const bypass = h.service.criticalBypass();
    const tag = h.equipment.sensorsByTag.get('[default]Reactors/R01/Temperature')!;
    const reading = (value: number, ts: number) => ({
      kind: 'sensor' as const,
      tag,
      value,
      quality: 'good' as const,
      sourceTimestampMs: ts,
      receivedTimestampMs: ts,
    });
    const alerts = [...bypass.evaluate(reading(95, T0)), ...bypass.evaluate(reading(96, T0 + 1000))];
    assert.equal(alerts.length, 1);
    await bypass.raise(alerts);
    await bypass.raise(alerts); // retried raise: idempotent
    assert.equal(pushed.length, 1);
    assert.equal(pushed[0]!.type, 'critical_alert');
    assert.equal(pushed[0]!.alert?.equipmentId, 'REACTOR_01');
    const rows = await db
      .pool()
      .query('SELECT level, threshold FROM mining_operations.critical_alerts WHERE alert_id = $1', [
        alerts[0]!.id,
      ]);
    assert.deepEqual(rows.rows, [{ level: 'emergency', threshold: 90 }]);
    const resumed = await h.service.changesSince(pushed[0]!.seq - 1, 10);
    assert.equal(resumed[0]?.alert?.id, alerts[0]!.id);
  });

  test('tick prunes change-log rows older than changeLogRetentionHours; seq keeps increasing', async () => {
    const h = await buildHarness(db.pool(), { changeLogRetentionHours: 1 });
    const before = await h.service.changesSince(0, 100_000);
    assert.ok(before.length > 0);
    const lastSeq = before.at(-1)!.seq;
    h.clock.t = Date.now() - 30 * MIN; // rows written just now are younger than 1 h: kept
    await h.service.tick(); // (also expires the old pending rows: more changes, none removed)
    const kept = new Set((await h.service.changesSince(0, 100_000)).map((c) => c.seq));
    assert.ok(before.every((c) => kept.has(c.seq)));
    const h2 = await buildHarness(db.pool(), { changeLogRetentionHours: 1 });
    h2.clock.t = Date.now() + 2 * 60 * MIN;
    await h2.service.tick();
    assert.equal((await h2.service.changesSince(0, 100_000)).length, 0);
    feedSetpoint(h2, REACTOR_THROUGHPUT, 80);
    await h2.service.onScored(coolingEvent(h2, T0 + 500 * MIN));
    const fresh = await h2.service.changesSince(0, 100);
    assert.equal(fresh.length, 1);
    assert.ok(fresh[0]!.seq > lastSeq);
  });
});
