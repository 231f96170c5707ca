import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionLabelOf, classifyOutcome, clearedAfterMs, labelOf } from './labels.ts';
import { adaptThreshold, adjustedConfidence, NO_HISTORY, posteriorOf } from './posterior.ts';
import { binShares, driftBaseline, driftOf, newDriftAlerts, psi, quantileEdges } from './drift.ts';
import { humanMetrics, type DecisionTiming } from './human.ts';
import { decisionFigures, figuresFrom, promotionGate, wouldRaise } from './gate.ts';

test('decisions become labels: approved 1, rejected 0 with the note, deferred none', () => {
  const f = (status: string) =>
    labelOf({ recommendationId: 'r', status, operatorNote: 'sensor was being calibrated', outcome: null });
  assert.equal(f('approved')?.label, 1);
  assert.equal(f('executed')?.label, 1);
  assert.deepEqual(f('rejected'), {
    recommendationId: 'r',
    label: 0,
    source: 'rejected',
    note: 'sensor was being calibrated',
  });
  assert.equal(f('deferred'), undefined);
  assert.equal(f('pending'), undefined);
  assert.equal(f('expired'), undefined);
  assert.equal(actionLabelOf('effective'), 1);
  assert.equal(actionLabelOf('worse'), 0);
});

test('outcome: cleared → effective, higher scores → worse, unchanged → not effective', () => {
  const before = { events: 100, anomalies: 40, meanScore: 0.7 };
  assert.equal(classifyOutcome(before, { events: 100, anomalies: 5, meanScore: 0.3 }), 'effective');
  assert.equal(classifyOutcome(before, { events: 100, anomalies: 60, meanScore: 0.9 }), 'worse');
  assert.equal(classifyOutcome(before, { events: 100, anomalies: 35, meanScore: 0.68 }), 'not_effective');
  assert.equal(classifyOutcome(before, { events: 0, anomalies: 0, meanScore: 0 }), 'not_effective');
});

test('Beta posterior: rejections sink a pattern below 0.6, approvals raise it, no history keeps the playbook value', () => {
  const prior = { alpha: 2, beta: 1 };
  assert.equal(adjustedConfidence(0.8, prior, NO_HISTORY), 0.8);
  const rejected = { ...NO_HISTORY, rejected: 3 };
  assert.deepEqual(posteriorOf(prior, rejected), { alpha: 2, beta: 4, mean: 2 / 6 });
  assert.ok(adjustedConfidence(0.8, prior, rejected) < 0.6);
  const approved = { ...NO_HISTORY, approved: 3 };
  assert.ok(adjustedConfidence(0.7, prior, approved) > 0.7);
  assert.ok(adjustedConfidence(0.95, prior, { ...approved, effective: 5 }) <= 1);
  assert.ok(
    adjustedConfidence(0.8, prior, { ...approved, worse: 6 }) < adjustedConfidence(0.8, prior, approved),
    'worse outcomes count against',
  );
  assert.throws(() => posteriorOf({ alpha: 0, beta: 1 }, NO_HISTORY), /alpha > 0/);
});

test('threshold adapts within bounds and only with enough decisions', () => {
  const b = { min: 0.5, max: 0.8, step: 0.05, targetRejectRate: 0.3 };
  assert.equal(adaptThreshold(0.6, 2, 3, b), 0.6, 'too few decisions');
  assert.ok(adaptThreshold(0.6, 2, 18, b) > 0.6);
  assert.ok(adaptThreshold(0.6, 20, 0, b) < 0.6);
  assert.equal(adaptThreshold(0.79, 0, 50, b), 0.8);
  assert.equal(adaptThreshold(0.5, 50, 0, b), 0.5);
});

test('PSI: same distribution ≈ 0, shifted distribution crosses 0.25', () => {
  const ref = Array.from({ length: 2000 }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
  const edges = quantileEdges(ref, 10);
  assert.equal(edges.length, 9);
  const shares = binShares(ref, edges);
  assert.ok(Math.abs(shares.reduce((s, v) => s + v, 0) - 1) < 1e-9);
  assert.ok(psi(shares, binShares(ref.slice(0, 1000), edges)) < 0.05);
  const base = driftBaseline({ z_score: ref, step_z: ref });
  const r = driftOf(base, { z_score: ref.map((v) => v + 0.8), step_z: ref.slice(1000) }, 0.25);
  assert.ok((r.psi.z_score as number) > 0.25);
  assert.ok((r.psi.step_z as number) < 0.1);
  assert.deepEqual(
    r.alerts.map((a) => a.feature),
    ['z_score'],
  );
});

test('human metrics: latency, reject rate and rubber stamps per pattern and role', () => {
  const d = (
    role: string,
    status: 'approved' | 'rejected',
    sec: number,
    issueType = 'cooling',
  ): DecisionTiming => ({ equipmentId: 'R1', issueType, role, status, createdMs: 0, decidedMs: sec * 1000 });
  const m = humanMetrics(
    [
      d('operator', 'approved', 2),
      d('operator', 'approved', 60),
      d('operator', 'rejected', 30),
      d('engineer', 'approved', 100, 'wear'),
    ],
    10_000,
  );
  assert.deepEqual(m.byRole.operator, {
    decisions: 3,
    approvals: 2,
    rejects: 1,
    rejectRate: 1 / 3,
    meanLatencySec: 92 / 3,
    medianLatencySec: 30,
    rubberStamps: 1,
  });
  assert.equal(m.byPattern['R1|wear']?.rubberStamps, 0);
  assert.equal(m.overall.decisions, 4);
  assert.equal(m.overall.medianLatencySec, 45);
});

test('gate: promotes a not-worse candidate, refuses a worse one or too little data', () => {
  const labels = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
  const good = figuresFrom(labels, [true, true, true, false, false, false, false, false, false, false]);
  const bad = figuresFrom(labels, [true, false, false, false, true, true, true, false, false, false]);
  assert.deepEqual({ f1: good.f1, far: good.far, mar: good.mar }, { f1: 6 / 7, far: 0, mar: 0.25 });
  const o = { f1Tolerance: 0.02, farTolerance: 0.01, minRows: 10 };
  const pass = promotionGate(good, good, o);
  assert.equal(pass.passed, true);
  assert.match(pass.reason, /not worse: F1 0.857 vs 0.857/);
  const fail = promotionGate(good, bad, o);
  assert.equal(fail.passed, false);
  assert.match(fail.reason, /worse F1 and FAR/);
  assert.equal(promotionGate(good, good, { ...o, minRows: 11 }).passed, false);
});

test('decision gate: an approval counts as caught by any seen event, so a candidate that raises it a tick later and stops a rejected alarm passes', () => {
  const o = { f1Tolerance: 0.02, farTolerance: 0.01, minRows: 10 };
  const normalQuiet = Array<boolean>(8).fill(false);
  // The serving model raised both approvals at their first event and the rejected alarm throughout.
  const current = decisionFigures(
    [
      { label: 1, flagged: [true, true, true] },
      { label: 1, flagged: [true, true] },
      { label: 0, flagged: [true, true, true, true] },
    ],
    normalQuiet,
  );
  assert.deepEqual(
    { rows: current.rows, positives: current.positives, negatives: current.negatives },
    { rows: 17, positives: 2, negatives: 12 },
  );
  assert.equal(current.f1, 4 / 5);
  assert.equal(current.far, 4 / 12);
  // A tick later on each approval, the rejected pattern no longer flagged.
  const later = decisionFigures(
    [
      { label: 1, flagged: [false, true, true] },
      { label: 1, flagged: [false, true] },
      { label: 0, flagged: [false, false, false, false] },
    ],
    normalQuiet,
  );
  assert.deepEqual({ f1: later.f1, far: later.far, mar: later.mar }, { f1: 1, far: 0, mar: 0 });
  const pass = promotionGate(current, later, o);
  assert.equal(pass.passed, true, pass.reason);
  // With only approvals held back, row-level F1 refuses the tick-later candidate (the serving model
  // flagged every event it raised); the decision gate sees the same faults caught.
  const approvalsOnly = [true, true, true, true, true];
  const tickLater = [false, true, true, false, true];
  const rowLevel = promotionGate(
    figuresFrom([1, 1, 1, 1, 1, ...normalQuiet.map(() => 0)], [...approvalsOnly, ...normalQuiet]),
    figuresFrom([1, 1, 1, 1, 1, ...normalQuiet.map(() => 0)], [...tickLater, ...normalQuiet]),
    o,
  );
  assert.match(rowLevel.reason, /worse F1: F1 0.750 vs 1.000/);
  const byDecision = promotionGate(
    decisionFigures(
      [
        { label: 1, flagged: approvalsOnly.slice(0, 3) },
        { label: 1, flagged: approvalsOnly.slice(3) },
      ],
      normalQuiet,
    ),
    decisionFigures(
      [
        { label: 1, flagged: tickLater.slice(0, 3) },
        { label: 1, flagged: tickLater.slice(3) },
      ],
      normalQuiet,
    ),
    { ...o, minRows: 5 },
  );
  assert.equal(byDecision.passed, true, byDecision.reason);
  // Losing a confirmed fault is worse, whatever it does to the rejected alarm.
  const lost = decisionFigures(
    [
      { label: 1, flagged: [false, false, false] },
      { label: 1, flagged: [true, true] },
      { label: 0, flagged: [false, false, false, false] },
    ],
    normalQuiet,
  );
  assert.equal(lost.mar, 0.5);
  const fail = promotionGate(current, lost, o);
  assert.equal(fail.passed, false);
  assert.match(fail.reason, /worse F1/);
  // More false alarms on normal rows is worse too.
  const noisy = decisionFigures(
    [
      { label: 1, flagged: [true, true, true] },
      { label: 1, flagged: [true, true] },
      { label: 0, flagged: [true, true, true, true] },
    ],
    [true, true, ...normalQuiet.slice(2)],
  );
  assert.match(promotionGate(current, noisy, o).reason, /worse FAR/);
  // Without an approval or without negatives there is nothing to judge.
  assert.match(
    promotionGate(current, decisionFigures([{ label: 0, flagged: [true] }], normalQuiet), o).reason,
    /held-back set too small/,
  );
});

test('decision gate with the on-delay: a decision counts as raised again only by that many flagged ticks in a row', () => {
  // 20 ticks, two sensors each (the same timestamp twice); a tick is flagged when either event is.
  const ticks = Array.from({ length: 40 }, (_, i) => 1_000 * Math.floor(i / 2));
  const flagTicks = (on: (tick: number) => boolean): boolean[] =>
    ticks.map((t, i) => on(t / 1_000) && i % 2 === 0);
  const stray = { label: 1 as const, flagged: flagTicks((k) => k === 7), ticks };
  assert.equal(wouldRaise(stray, 1), true, 'on-delay 1: any flagged event');
  assert.equal(wouldRaise(stray, 15), false, 'one stray tick does not raise a 15-tick alarm');
  assert.equal(wouldRaise({ ...stray, flagged: flagTicks((k) => k >= 5) }, 15), true, '15 ticks in a row');
  assert.equal(
    wouldRaise({ ...stray, flagged: flagTicks((k) => k >= 5 && k !== 12) }, 15),
    false,
    'a gap restarts the count',
  );
  // Fewer ticks seen than the on-delay: every one of them must be flagged.
  const short = { label: 1 as const, flagged: [true, true, true], ticks: [1, 2, 3] };
  assert.equal(wouldRaise(short, 15), true);
  assert.equal(wouldRaise({ ...short, flagged: [true, false, true] }, 15), false);
  assert.equal(wouldRaise({ label: 1, flagged: [], ticks: [] }, 15), false, 'no events, nothing raised');
  // In the figures: the stray-tick candidate misses the approval at on-delay 15.
  const normal = Array<boolean>(10).fill(false);
  const full = decisionFigures([{ ...stray, flagged: flagTicks((k) => k >= 2) }], normal, 15);
  const strayFig = decisionFigures([stray], normal, 15);
  assert.deepEqual([full.mar, strayFig.mar], [0, 1]);
  assert.match(
    promotionGate(full, strayFig, { f1Tolerance: 0.02, farTolerance: 0.01, minRows: 10 }).reason,
    /worse F1/,
  );
});

test('clearing time: only for effective outcomes, from the write to the last anomalous event after it', () => {
  const after = { events: 30, anomalies: 1, meanScore: 0.2, lastAnomalyMs: 1_000 + 240_000 };
  assert.equal(clearedAfterMs('effective', 1_000, after), 240_000);
  assert.equal(clearedAfterMs('effective', 1_000, { ...after, anomalies: 0, lastAnomalyMs: null }), 0);
  assert.equal(clearedAfterMs('not_effective', 1_000, after), null);
  assert.equal(clearedAfterMs('worse', 1_000, after), null);
});

test('drift notifications: a feature is new only on its rising edge', () => {
  const alerts = (...f: string[]) => ({ psi: {}, alerts: f.map((feature) => ({ feature, psi: 0.4 })) });
  const first = newDriftAlerts(new Set(), alerts('z_score'));
  assert.deepEqual(
    first.fresh.map((a) => a.feature),
    ['z_score'],
  );
  const again = newDriftAlerts(first.alerting, alerts('z_score', 'step_z'));
  assert.deepEqual(
    again.fresh.map((a) => a.feature),
    ['step_z'],
    'still drifting: not new',
  );
  const calm = newDriftAlerts(again.alerting, alerts());
  assert.deepEqual([...calm.alerting], []);
  assert.deepEqual(
    newDriftAlerts(calm.alerting, alerts('z_score')).fresh.map((a) => a.feature),
    ['z_score'],
    'drifting again after calm is new',
  );
});
