import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlarmGate, DEFAULT_GATE, blendScores, explainRow, severityOf } from './scoring.ts';
import { FEATURE_COUNT, FEATURE_INDEX as F } from './features.ts';

test('blend uses the configured weights and clamps', () => {
  assert.equal(blendScores(0.5, 1, { ifWeight: 0.3, rfWeight: 0.7 }), 0.3 * 0.5 + 0.7);
  assert.equal(blendScores(2, 2, { ifWeight: 0.5, rfWeight: 0.5 }), 1);
});

test('severity: engineering levels set the floor, the score raises it', () => {
  const t = { warning: 80, critical: 90, emergency: 100, direction: 'high' as const };
  assert.equal(severityOf(0.1, 0.6, 50, t), 'low');
  assert.equal(severityOf(0.1, 0.6, 101, t), 'critical');
  assert.equal(severityOf(0.1, 0.6, 91, t), 'high');
  assert.equal(severityOf(0.75, 0.6, 50, t), 'medium');
  assert.equal(severityOf(0.95, 0.6, 50, undefined), 'high');
  const low = { warning: 10, critical: 5, emergency: 1, direction: 'low' as const };
  assert.equal(severityOf(0, 0.6, 4, low), 'high');
});

test('explanation names the feature that moved most, weights sum to 1', () => {
  const row = new Float32Array(FEATURE_COUNT);
  row[F.volatility_ratio] = 1;
  row[F.z_score] = 8;
  row[F.level_shift] = 2;
  const e = explainRow(row, 0, 3, { tagPath: 'p', sensorType: 'temperature' });
  assert.equal(e[0]?.feature, 'z_score');
  assert.equal(e.length, 3);
  assert.ok(
    Math.abs(e.reduce((a, c) => a + c.weight, 0) - 1) < 1e-9 || e.reduce((a, c) => a + c.weight, 0) < 1,
  );
  assert.deepEqual(
    explainRow(
      new Float32Array(FEATURE_COUNT).fill(0).map((_, i) => (i === F.volatility_ratio ? 1 : 0)),
      0,
      3,
      { tagPath: 'p', sensorType: 't' },
    ),
    [],
  );
});

test('alarm gate: on-delay, off-delay, one tick per timestamp, relearn after a long alarm', () => {
  const g = new AlarmGate({ onDelayTicks: 3, offDelayTicks: 2, relearnAfterTicks: 5 });
  const seq = [0.9, 0.9, 0.9, 0.1, 0.9, 0.1, 0.1, 0.1];
  const got = seq.map((s, i) => g.observe('E', i, s, 0.6));
  assert.deepEqual(got, [false, false, true, true, true, true, false, false]);
  // several readings at one timestamp are one tick: three readings above do not satisfy a 3-tick on-delay
  const h = new AlarmGate({ onDelayTicks: 3, offDelayTicks: 2, relearnAfterTicks: 4 });
  assert.equal(h.observe('E', 0, 0.9, 0.6), false);
  assert.equal(h.observe('E', 0, 0.9, 0.6), false);
  assert.equal(h.observe('E', 0, 0.1, 0.6), false, 'tick max stays above, still one tick');
  assert.equal(h.isLearning('E'), true);
  for (let t = 1; t <= 3; t++) h.observe('E', t, 0.9, 0.6);
  h.observe('E', 4, 0.9, 0.6);
  assert.equal(h.isLearning('E'), false, 'in alarm: windows do not learn');
  for (let t = 5; t <= 9; t++) h.observe('E', t, 0.9, 0.6);
  assert.equal(h.isLearning('E'), true, 'a lasting condition is learnt after relearnAfterTicks');
  assert.throws(() => new AlarmGate({ onDelayTicks: 0, offDelayTicks: 1, relearnAfterTicks: 1 }), RangeError);
});

test('alarm gate: windows stop learning while an alarm is pending, and learn again when the run ends', () => {
  const g = new AlarmGate({ onDelayTicks: 4, offDelayTicks: 2, relearnAfterTicks: 100 });
  g.observe('E', 0, 0.1, 0.6);
  g.observe('E', 1, 0.9, 0.6);
  assert.equal(g.isLearning('E'), true, 'the open tick is not judged yet');
  g.observe('E', 2, 0.9, 0.6); // closes tick 1 (above the line)
  assert.equal(g.isLearning('E'), false, 'pending: a suspect reading must not become the reference');
  g.observe('E', 3, 0.2, 0.6); // closes tick 2 (above), tick 3 below
  assert.equal(g.isLearning('E'), false);
  assert.equal(g.observe('E', 4, 0.2, 0.6), false, 'two ticks above do not satisfy a 4-tick on-delay');
  assert.equal(g.isLearning('E'), true, 'the run ended without an alarm: learning again');
  assert.equal(g.isLearning('other'), true, 'per equipment');
});

test('default gate: 15-tick on-delay (a blip shorter than the fast EWMA memory never alarms), 30 off, relearn after 350', () => {
  assert.deepEqual(DEFAULT_GATE, { onDelayTicks: 15, offDelayTicks: 30, relearnAfterTicks: 350 });
  const g = new AlarmGate(DEFAULT_GATE);
  let raised = false;
  for (let t = 0; t < 14; t++) raised ||= g.observe('E', t, 0.9, 0.65);
  for (let t = 14; t < 60; t++) raised ||= g.observe('E', t, 0.1, 0.65);
  assert.equal(raised, false, '14 ticks above the line do not alarm');
  const flags: boolean[] = [];
  for (let t = 60; t < 75; t++) flags.push(g.observe('E', t, 0.9, 0.65));
  assert.equal(flags.indexOf(true), 14, 'the 15th consecutive tick above the line raises it');
  let off = 0;
  for (let t = 75; g.observe('E', t, 0.1, 0.65); t++) off++;
  assert.equal(off, 29, 'cleared on the 30th tick below');
});
