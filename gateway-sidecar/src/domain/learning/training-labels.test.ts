import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  labelledSubset,
  seenDecisions,
  spread,
  trainingLabels,
  type DecisionEvent,
} from './training-labels.ts';
import { adaptThreshold } from './posterior.ts';

const ev = (
  rec: string,
  status: string,
  tsMs: number,
  raisedAtMs: number,
  decidedAtMs: number | null,
): DecisionEvent => ({
  recommendationId: rec,
  status,
  note: null,
  outcome: null,
  tsMs,
  raisedAtMs,
  decidedAtMs,
  features: { z_score: tsMs },
});

test('an approval labels the events that raised the recommendation, not the alarm tail appended later', () => {
  // Raised at t=10 (two sensors), then the alarm held on for 5 more ticks after the fault.
  const events = [10, 10, 11, 12, 13, 14, 15].map((t) => ev('a', 'approved', t, 10, 100));
  assert.deepEqual(
    labelledSubset(events, 1).map((e) => e.tsMs),
    [10, 10],
  );
  const r = trainingLabels(events, 10);
  assert.equal(r.approvedDecisions, 1);
  assert.deepEqual(
    r.rows.map((x) => [x.features.z_score, x.label]),
    [
      [10, 1],
      [10, 1],
    ],
  );
});

test('a rejection labels every event seen before the decision as a false alarm, none after it', () => {
  const events = [10, 11, 12, 13, 20, 21].map((t) => ev('r', 'rejected', t, 10, 13));
  assert.deepEqual(
    labelledSubset(events, 0).map((e) => e.tsMs),
    [10, 11, 12, 13],
  );
  const unknownDecision = [10, 11, 12].map((t) => ev('r', 'rejected', t, 10, null));
  assert.equal(labelledSubset(unknownDecision, 0).length, 3, 'no decision time: every event counts as seen');
  // Source clock ahead of the gateway: nothing before the limit, the earliest events are kept.
  const skewed = [50, 50, 51].map((t) => ev('a', 'approved', t, 10, 13));
  assert.deepEqual(
    labelledSubset(skewed, 1).map((e) => e.tsMs),
    [50, 50],
  );
});

test('each decision weighs the same within its class; the classes weigh the same', () => {
  // Three approvals (1, 2 and 4 triggering events) and one rejection with 8 events.
  const events = [
    ev('a1', 'approved', 1, 1, 9),
    ...[1, 1].map((t) => ev('a2', 'executed', t, 1, 9)),
    ...[1, 1, 1, 1].map((t) => ev('a3', 'failed', t, 1, 9)),
    ...[1, 2, 3, 4, 5, 6, 7, 8].map((t) => ev('r1', 'rejected', t, 1, 9)),
    ev('d1', 'deferred', 1, 1, null),
  ];
  const r = trainingLabels(events, 100);
  assert.equal(r.approvedDecisions, 3);
  assert.equal(r.rejectedDecisions, 1);
  const weight = (rec: string): number =>
    r.rows.filter((x) => x.recommendationId === rec).reduce((s, x) => s + x.reps, 0);
  // 4 decisions × 100 = 400: 200 per class; 200 / 3 ≈ 67 per approval, 200 for the rejection.
  assert.deepEqual(['a1', 'a2', 'a3'].map(weight), [67, 67, 67]);
  assert.equal(weight('r1'), 200);
  assert.equal(weight('d1'), 0, 'deferred gives no label');
  assert.deepEqual(
    r.rows.filter((x) => x.recommendationId === 'r1').map((x) => x.reps),
    [25, 25, 25, 25, 25, 25, 25, 25],
  );
  // One class only: every decision keeps its own weight.
  const only = trainingLabels(
    events.filter((e) => e.status !== 'rejected'),
    100,
  );
  assert.deepEqual(
    ['a1', 'a2', 'a3'].map((rec) =>
      only.rows.filter((x) => x.recommendationId === rec).reduce((s, x) => s + x.reps, 0),
    ),
    [100, 100, 100],
  );
  assert.throws(() => trainingLabels(events, 0), /perDecision must be > 0, got 0/);
});

test('spread: integer repetitions summing to the total; fewer repetitions than events keep an even subset', () => {
  assert.deepEqual(spread(10, 4), [2, 3, 2, 3]);
  assert.equal(
    spread(10, 4).reduce((s, v) => s + v, 0),
    10,
  );
  assert.deepEqual(spread(3, 9), [0, 1, 0, 0, 1, 0, 0, 1, 0]);
  assert.deepEqual(spread(6, 3), [2, 2, 2]);
});

test('the anomaly line adapts from decisions and the base line: the same decisions give the same line', () => {
  const b = { min: 0.5, max: 0.85, step: 0.05, targetRejectRate: 0.3 };
  // Retraining twice on the same 20 decisions (12 rejected) from the base line gives one answer;
  // starting from the last adapted line instead would keep moving it.
  const once = adaptThreshold(0.65, 8, 12, b);
  assert.ok(once > 0.65);
  assert.equal(adaptThreshold(0.65, 8, 12, b), once);
  assert.ok(adaptThreshold(once, 8, 12, b) > once, 'the cumulative form drifts (what retrain avoids)');
});

test('the gate judges a decision by every event seen before it, for either answer; deferred ones are left out', () => {
  const events = [
    ...[10, 11, 12, 30].map((t) => ev('a', 'approved', t, 10, 20)),
    ...[40, 41, 50].map((t) => ev('r', 'rejected', t, 40, 45)),
    ev('d', 'deferred', 60, 60, 61),
  ];
  const seen = seenDecisions(events);
  assert.deepEqual(
    seen.map((d) => [d.recommendationId, d.label, d.events.map((f) => f.z_score), d.ticks]),
    [
      ['a', 1, [10, 11, 12], [10, 11, 12]],
      ['r', 0, [40, 41], [40, 41]],
    ],
  );
  // Training still labels only the approval's raising tick.
  assert.equal(trainingLabels(events, 1).rows.filter((r) => r.label === 1).length, 1);
});
