/** Decisions become labels joined to their own anomaly events; pattern confidence follows the decisions. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANOMALOUS,
  buildRig,
  coolingEvents,
  decide,
  ingest,
  latest,
  MIN,
  NORMALISH,
  PUMP_VIB,
  REACTOR_TEMP,
  scored,
  T0,
  type Rig,
} from './learning-fixture.ts';
import { trainingLabels } from '../../src/domain/learning/training-labels.ts';

let rig: Rig;
before(async () => {
  rig = await buildRig();
});
after(async () => {
  await rig.close();
});

test('labels: approved → 1, rejected → 0 with the note, deferred → none; features of the own events only', async () => {
  const t1 = T0 + 1_000;
  assert.equal(await ingest(rig, coolingEvents(rig, t1)), 1);
  // A neighbouring event 20 s later on another sensor of the same equipment, not behind any recommendation:
  // a ±1 minute fuzzy join would pick it up.
  await ingest(rig, [
    scored(rig, '[default]Reactors/R01/Pressure', t1 + 20_000, { ...NORMALISH, z_score: 0.7 }, 0.2, false),
  ]);
  const [first] = await latest(rig, 'REACTOR_01');
  assert.ok(first);
  await decide(rig, first, 'reject', 'coolant pump was on maintenance bypass');

  rig.clock.advance(10 * MIN);
  const t2 = T0 + 10 * MIN + 1_000;
  // Normal operation 10 s before the condition that will be approved (an on-delay tick, say).
  await ingest(rig, [
    scored(rig, '[default]Reactors/R01/Pressure', t2 - 10_000, { ...NORMALISH, z_score: 0.55 }, 0.2, false),
  ]);
  assert.equal(await ingest(rig, coolingEvents(rig, t2)), 1);
  const second = (await latest(rig, 'REACTOR_01')).find((r) => r.status === 'pending');
  assert.ok(second);
  await decide(rig, second, 'approve');
  const approvedAt = rig.clock.now();
  // The alarm holds on: 30 s later the same condition lands on the approved recommendation (same
  // dedup window, its events appended). The operator confirmed the fault, not this tail.
  rig.clock.advance(30_000);
  await ingest(rig, coolingEvents(rig, t2 + 30_000));

  rig.clock.advance(10 * MIN);
  assert.equal(await ingest(rig, coolingEvents(rig, T0 + 20 * MIN + 1_000)), 1);
  const third = (await latest(rig, 'REACTOR_01')).find((r) => r.status === 'pending');
  assert.ok(third);
  await rig.service.decide(
    third.id,
    {
      decision: 'defer',
      deferUntil: new Date(rig.clock.now() + 60 * MIN).toISOString(),
      expectedVersion: third.version,
    },
    { user: 'olga', roles: ['operator'], via: 'token' },
  );

  const events = await rig.store.labelledEvents(T0 - 60 * MIN, T0 + 120 * MIN);
  const byRec = new Map<string, typeof events>();
  for (const e of events) byRec.set(e.recommendationId, [...(byRec.get(e.recommendationId) ?? []), e]);
  assert.equal(byRec.size, 2, 'the deferred recommendation gives no label');
  const rejected = byRec.get(first.id) ?? [];
  assert.deepEqual(
    rejected.map((e) => e.eventId).sort(),
    [`${REACTOR_TEMP}@${t1}`, `[default]Reactors/R01/CoolantFlow@${t1}`].sort(),
  );
  assert.equal(rejected[0]?.status, 'rejected');
  assert.equal(rejected[0]?.note, 'coolant pump was on maintenance bypass');
  assert.equal(rejected.find((e) => e.eventId.startsWith(REACTOR_TEMP))?.features.z_score, ANOMALOUS.z_score);
  assert.ok(!events.some((e) => e.eventId.includes('Pressure')), 'no neighbouring event leaks in');
  const approved = byRec.get(second.id) ?? [];
  assert.ok(approved.every((e) => ['approved', 'executed', 'failed'].includes(e.status)));
  // Times the label rule needs: the event's source time, the recommendation's anomaly time and
  // the decision time.
  assert.ok(rejected.every((e) => e.tsMs === t1 && e.raisedAtMs === t1 && e.decidedAtMs === T0));
  assert.deepEqual(
    approved.map((e) => e.tsMs).sort(),
    [t2, t2, t2 + 30_000, t2 + 30_000],
    'the tail was appended to the approved recommendation',
  );
  assert.ok(approved.every((e) => e.raisedAtMs === t2 && e.decidedAtMs === approvedAt));
  // As training labels: the approval confirms the two events that raised it, the rejection labels
  // what the operator had seen; each decision weighs the same (classes balanced).
  const labels = trainingLabels(events, 10);
  assert.deepEqual(
    labels.rows
      .filter((r) => r.recommendationId === second.id)
      .map((r) => [r.label, r.reps])
      .sort(),
    [
      [1, 5],
      [1, 5],
    ],
  );
  assert.deepEqual(
    labels.rows.filter((r) => r.recommendationId === first.id).map((r) => [r.label, r.reps]),
    [
      [0, 5],
      [0, 5],
    ],
  );
  assert.deepEqual([labels.approvedDecisions, labels.rejectedDecisions], [1, 1]);

  // Recent normal rows for retraining: next to the confirmed (approved) condition they are left
  // out; next to the rejected one (t1 + 20 s) they stay; without a margin both stay.
  const normalZ = async (margin: number): Promise<number[]> =>
    (await rig.store.featureRows(T0 - 60 * MIN, T0 + 120 * MIN, 1_000, true, margin))
      .map((f) => f.z_score as number)
      .sort();
  assert.deepEqual(await normalZ(0), [0.55, 0.7]);
  assert.deepEqual(await normalZ(5 * MIN), [0.7]);
});

test('a repeatedly rejected pattern falls below minConfidence and stops reaching operators; an approved one rises', async () => {
  const minConfidence = rig.config.minConfidence;
  let t = T0 + 60 * MIN;
  // Reactor cooling: rejected three more times.
  for (let i = 0; i < 3; i++) {
    rig.clock.advance(10 * MIN);
    t += 10 * MIN;
    const n = await ingest(rig, coolingEvents(rig, t));
    if (n === 0) break;
    const rec = (await latest(rig, 'REACTOR_01')).find((r) => r.status === 'pending');
    assert.ok(rec);
    await decide(rig, rec, 'reject', `false alarm ${i}: calibration`);
    await rig.learning.refreshPatterns();
  }
  const base = 0.9;
  const cooling = rig.learning.confidence('REACTOR_01', 'cooling_degradation', base);
  assert.ok(cooling < minConfidence, `cooling confidence ${cooling} should be below ${minConfidence}`);
  rig.clock.advance(10 * MIN);
  t += 10 * MIN;
  const before = (await latest(rig, 'REACTOR_01')).length;
  assert.equal(await ingest(rig, coolingEvents(rig, t)), 0, 'the rejected pattern raises nothing');
  assert.equal((await latest(rig, 'REACTOR_01')).length, before);

  // Pump vibration: approved three times, its confidence rises above the playbook value.
  const pump = (ts: number) => [
    scored(rig, PUMP_VIB, ts, ANOMALOUS, 0.85),
    scored(rig, '[default]Utilities/P02/BearingTemperature', ts, ANOMALOUS, 0.8),
  ];
  const confidences: number[] = [];
  let issueType = '';
  for (let i = 0; i < 4; i++) {
    rig.clock.advance(10 * MIN);
    t += 10 * MIN;
    assert.equal(await ingest(rig, pump(t)), 1);
    const rec = (await latest(rig, 'PUMP_02')).find((r) => r.status === 'pending');
    assert.ok(rec);
    confidences.push(rec.confidence);
    issueType = rec.issueType;
    if (i < 3) await decide(rig, rec, 'approve');
    await rig.learning.refreshPatterns();
  }
  assert.ok(
    (confidences[3] as number) > (confidences[0] as number),
    `confidence rises with approvals: ${confidences.join(' → ')}`,
  );
  assert.ok(rig.learning.confidence('PUMP_02', issueType, 0.7) > 0.7);
  const snap = rig.learning.snapshot();
  assert.ok(
    (snap.patterns['REACTOR_01|cooling_degradation']?.rejected ?? 0) >= 3,
    'it took at most four rejections (the last raise may already be suppressed)',
  );
  assert.equal(snap.patterns[`PUMP_02|${issueType}`]?.approved, 3);
});
