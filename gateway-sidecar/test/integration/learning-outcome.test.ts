/**
 * Outcome check after a real simulator write (effective; worse → audited auto-revert) and the human
 * metrics, on a real Postgres. The drift alert is in learning-drift.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change } from '../../src/app/recommendation-service.ts';
import { silverRowOf as silver } from '../../src/adapters/pg-event-sink.ts';
import { Registry } from '../../src/adapters/prom-registry.ts';
import { registerLearningMetrics } from '../../src/adapters/prom-learning-metrics.ts';
import {
  ANOMALOUS,
  buildRig,
  coolingEvents,
  decide,
  ingest,
  MIN,
  NORMALISH,
  REACTOR_TEMP,
  scored,
  type Rig,
} from './learning-fixture.ts';

const THROUGHPUT = '[default]Reactors/R01/Throughput_SP';
let rig: Rig;
before(async () => {
  rig = await buildRig({ autoRevertWorse: true, outcomeWindowMinutes: 30, minReadingSeconds: 10 });
  const tag = rig.equipment.setpointsByTag.get(THROUGHPUT);
  const value = rig.plant.readTag(THROUGHPUT);
  assert.ok(tag && typeof value === 'number');
  rig.service.onSetpoint({ kind: 'setpoint', tag, value, sourceTimestampMs: rig.clock.now() });
});
after(async () => {
  await rig.close();
});

/** `n` scored rows of the reactor temperature sensor spread over [from, from + span). */
async function activity(
  from: number,
  span: number,
  n: number,
  score: number,
  anomalous: boolean,
): Promise<void> {
  const rows = Array.from({ length: n }, (_, i) =>
    scored(
      rig,
      REACTOR_TEMP,
      from + Math.floor((i * span) / n) + 7,
      anomalous ? ANOMALOUS : NORMALISH,
      score,
      anomalous,
    ),
  );
  await rig.events.writeSilver(rows.map(silver));
}
async function executedCooling(): Promise<{ id: string; writtenAt: number }> {
  const t = rig.clock.now();
  assert.equal(await ingest(rig, coolingEvents(rig, t)), 1);
  const rec = (
    await rig.service.list({ equipmentId: 'REACTOR_01', status: ['pending'], limit: 5, offset: 0 })
  ).items[0];
  assert.ok(rec?.proposedAction, `cooling proposes a throughput change: ${JSON.stringify(rec)}`);
  rig.clock.advance(45_000); // read for 45 s: not a rubber stamp
  const done = await decide(rig, rec, 'approve');
  assert.equal(
    done.status,
    'executed',
    `write executed on the simulator: ${JSON.stringify(done.writeResult)}`,
  );
  assert.equal(rig.plant.readTag(THROUGHPUT), rec.proposedAction.newValue);
  return { id: rec.id, writtenAt: rig.clock.now() };
}

test('an executed write whose anomaly clears is recorded effective, on the row and in the counts', async () => {
  await activity(rig.clock.now() - 30 * MIN, 30 * MIN, 40, 0.8, true);
  const w = await executedCooling();
  await activity(w.writtenAt + 1_000, 29 * MIN, 40, 0.15, false);
  rig.clock.advance(10 * MIN);
  assert.deepEqual(await rig.learning.checkOutcomes(), [], 'not before the outcome window has passed');
  rig.clock.advance(21 * MIN);
  const done = await rig.learning.checkOutcomes();
  assert.deepEqual(
    done.map((o) => [o.recommendationId, o.outcome]),
    [[w.id, 'effective']],
  );
  const { rows } = await rig.pool.query<{ o: string }>(
    `SELECT outcome->>'outcome' AS o FROM agentic_hmi.agent_recommendations WHERE recommendation_id = $1`,
    [w.id],
  );
  assert.equal(rows[0]?.o, 'effective');
  assert.deepEqual(await rig.learning.checkOutcomes(), [], 'recorded once');
  assert.equal((await rig.store.outcomeCounts()).effective, 1);
  const counts = (await rig.store.patternCounts()).get('REACTOR_01|cooling_degradation');
  assert.equal(counts?.effective, 1, 'the outcome is a label of the pattern');
});

test('a write that made things worse is recorded worse and auto-reverted through the audited revert', async () => {
  rig.clock.advance(3 * 60 * MIN);
  const previous = rig.plant.readTag(THROUGHPUT);
  const tag = rig.equipment.setpointsByTag.get(THROUGHPUT);
  assert.ok(tag && typeof previous === 'number');
  rig.service.onSetpoint({ kind: 'setpoint', tag, value: previous, sourceTimestampMs: rig.clock.now() });
  await activity(rig.clock.now() - 30 * MIN, 30 * MIN, 40, 0.65, true);
  const w = await executedCooling();
  assert.notEqual(rig.plant.readTag(THROUGHPUT), previous);
  await activity(w.writtenAt + 1_000, 29 * MIN, 40, 0.97, true);
  rig.clock.advance(31 * MIN);
  const seen: Change[] = [];
  const unsubscribe = rig.service.subscribe((c) => seen.push(c));
  const done = await rig.learning.checkOutcomes();
  unsubscribe();
  assert.deepEqual(
    done.map((o) => o.outcome),
    ['worse'],
  );
  // Live subscribers (SSE) see the outcome, the revert, then the outcome marked reverted.
  const mine = seen.filter((c) => c.recommendation?.id === w.id).map((c) => c.recommendation);
  assert.deepEqual(
    mine.map((r) => [r?.outcome?.outcome, r?.outcome?.reverted, r?.revertResult?.ok ?? null]),
    [
      ['worse', false, null],
      ['worse', false, true],
      ['worse', true, true],
    ],
  );
  assert.equal(mine[0]?.outcome?.clearedAfterMinutes, null, 'only an effective outcome has a clearing time');
  assert.equal(rig.plant.readTag(THROUGHPUT), previous, 'the simulator setpoint is back');
  const got = await rig.service.get(w.id);
  assert.ok(
    got?.history.some((h) => h.action === 'revert' && h.actor === 'learning'),
    'the revert is audited',
  );
  const { rows } = await rig.pool.query<{ reverted: boolean }>(
    'SELECT reverted FROM agentic_hmi.recommendation_outcomes WHERE recommendation_id = $1',
    [w.id],
  );
  assert.equal(rows[0]?.reverted, true);
});

test('human metrics and the pipeline_metrics extra', async () => {
  const snap = await rig.learning.tick(undefined, 'if-rf-ensemble@1.0.0');
  assert.equal(snap.human?.byRole.operator?.approvals, 2);
  assert.equal(snap.human?.byRole.operator?.rubberStamps, 0);
  assert.ok((snap.human?.overall.meanLatencySec ?? 0) >= 45);
  assert.deepEqual(snap.outcomes, { effective: 1, not_effective: 0, worse: 1 });
  const { rows } = await rig.pool.query<{
    extra: { learning?: { outcomes?: unknown; modelVersion?: string } };
  }>('SELECT extra FROM mining_operations.pipeline_metrics ORDER BY metric_timestamp DESC LIMIT 1');
  assert.deepEqual(rows[0]?.extra.learning?.outcomes, { effective: 1, not_effective: 0, worse: 1 });
  assert.equal(rows[0]?.extra.learning?.modelVersion, 'if-rf-ensemble@1.0.0');
  const registry = new Registry();
  registerLearningMetrics(registry, () => rig.learning.snapshot());
  const text = registry.render();
  assert.match(text, /^sidecar_write_outcomes_total\{outcome="effective"\} 1$/m);
  assert.match(text, /^sidecar_write_outcomes_total\{outcome="worse"\} 1$/m);
  assert.match(text, /^sidecar_operator_decisions\{role="operator"\} 2$/m);
  assert.match(text, /^sidecar_operator_rubber_stamps\{role="operator"\} 0$/m);
});
