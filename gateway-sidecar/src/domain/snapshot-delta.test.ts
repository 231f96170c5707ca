// Differences of feature-engine and alarm-gate snapshots (incremental checkpoints): a chain of
// differences applied to the first snapshot rebuilds every later snapshot byte for byte, a
// restored engine then continues bit-identically, a head-bucket-only change is small, and bad
// bytes are named errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FEATURE_COUNT, FeatureEngine } from './features.ts';
import { AlarmGate, DEFAULT_GATE } from './scoring.ts';
import { readEngineDiff, readGateDiff, writeEngineDiff, writeGateDiff } from './snapshot-delta.ts';
import { StateFormatError, StateReader, StateWriter } from './state-codec.ts';
import type { SensorReading } from './tag-event.ts';

function reading(tag: string, value: number, t: number, equipmentId: string): SensorReading {
  return {
    kind: 'sensor',
    tag: {
      tagPath: tag,
      equipmentId,
      sensorType: tag,
      unit: '',
      engLow: -1e9,
      engHigh: 1e9,
      thresholds: undefined,
      sensorIndex: 0,
    },
    value,
    quality: 'good',
    sourceTimestampMs: t,
    receivedTimestampMs: t,
  };
}

const stepArb = fc.record({
  sensor: fc.integer({ min: 0, max: 7 }),
  // Mostly forward, sometimes late (negative) or a jump past the whole window (every bucket expires).
  dt: fc.oneof(fc.integer({ min: 0, max: 900 }), fc.integer({ min: -3_000, max: 0 }), fc.constant(25_000)),
  value: fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 3 })),
  learn: fc.boolean(),
});
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function engineDiff(before: Uint8Array, after: Uint8Array): Uint8Array {
  const w = new StateWriter();
  writeEngineDiff(w, before, after);
  return w.finish();
}
function engineApply(before: Uint8Array, delta: Uint8Array): Uint8Array {
  const r = new StateReader(delta, 'test delta');
  const out = readEngineDiff(r, before);
  r.end();
  return out;
}

test('a chain of engine differences rebuilds every snapshot byte for byte and the restored engine continues bit-identically (property)', () => {
  const opts = { windowMs: 20_000, bucketCount: 12 };
  fc.assert(
    fc.property(
      fc.array(fc.array(stepArb, { maxLength: 120 }), { minLength: 1, maxLength: 6 }),
      fc.array(stepArb, { minLength: 1, maxLength: 100 }),
      (chunks, after) => {
        const whole = new FeatureEngine(opts);
        const out = new Float64Array(FEATURE_COUNT);
        let t = 1_000_000;
        const run = (e: FeatureEngine, steps: readonly Step[], rows?: Float64Array): void => {
          steps.forEach((s, i) => {
            t += s.dt;
            e.update(
              reading(`s${s.sensor}`, s.value, t, s.sensor < 4 ? 'EQ_A' : 'EQ_B'),
              rows ?? out,
              rows === undefined ? 0 : i * FEATURE_COUNT,
              s.learn,
            );
          });
        };
        let base = whole.snapshot();
        let rebuilt = base;
        for (const chunk of chunks) {
          run(whole, chunk);
          const next = whole.snapshot();
          rebuilt = engineApply(rebuilt, engineDiff(base, next));
          assert.deepEqual(rebuilt, next);
          base = next;
        }
        const moved = new FeatureEngine(opts);
        moved.restore(rebuilt);
        const t0 = t;
        const a = new Float64Array(after.length * FEATURE_COUNT);
        run(whole, after, a);
        t = t0;
        const b = new Float64Array(after.length * FEATURE_COUNT);
        run(moved, after, b);
        for (let i = 0; i < a.length; i++)
          assert.ok(Object.is(a[i], b[i]), `row value ${i}: ${b[i]} vs ${a[i]}`);
      },
    ),
    { numRuns: 150 },
  );
});

test('within one bucket only the scalars and the head bucket travel: 228 bytes per sensor of 96 buckets', () => {
  const e = new FeatureEngine({ windowMs: 86_400_000, bucketCount: 96 });
  const out = new Float64Array(FEATURE_COUNT);
  const tags = Array.from(
    { length: 100 },
    (_, i) => `[default]Plant/EQ_${String(i >> 2).padStart(4, '0')}/S${i & 3}`,
  );
  let t = 0;
  for (let k = 0; k < 100 * 900; k++, t += 1_000)
    e.update(reading(tags[k % 100] as string, 50 + Math.sin(k), t, `EQ_${(k % 100) >> 2}`), out, 0); // 25 h: all 96 buckets live
  const before = e.snapshot();
  for (let k = 0; k < 100 * 60; k++, t += 10)
    e.update(reading(tags[k % 100] as string, 50 + Math.cos(k), t, `EQ_${(k % 100) >> 2}`), out, 0); // 60 s, one bucket
  const after = e.snapshot();
  const delta = engineDiff(before, after);
  assert.deepEqual(engineApply(before, delta), after);
  // u32 index + 144 scalars + 12 bitmap + 12 changed bitmap + 1 bucket of 56 = 228 per sensor;
  // equipment: u32 index + u32 length + 16 each; mode byte, list headers (mode, count, changed count).
  const perSensor = (delta.length - 1 - 2 * 9 - 25 * 24) / 100;
  assert.equal(perSensor, 228);
  assert.ok(delta.length < after.length / 20, `delta ${delta.length} B vs full ${after.length} B`);
});

test('a cleared engine (other sensors) is carried as a whole list; other options as a whole snapshot', () => {
  const out = new Float64Array(FEATURE_COUNT);
  const e = new FeatureEngine({ windowMs: 20_000, bucketCount: 12 });
  for (let i = 0; i < 40; i++) e.update(reading(`a${i % 3}`, i, 1_000 * i, 'EQ'), out, 0);
  const before = e.snapshot();
  e.clear();
  for (let i = 0; i < 40; i++) e.update(reading(`b${i % 2}`, i, 1_000 * i, 'EQ2'), out, 0);
  const after = e.snapshot();
  assert.deepEqual(engineApply(before, engineDiff(before, after)), after);
  const other = new FeatureEngine({ windowMs: 40_000, bucketCount: 12 });
  other.update(reading('c', 1, 0, 'EQ'), out, 0);
  assert.deepEqual(engineApply(before, engineDiff(before, other.snapshot())), other.snapshot());
});

test('gate differences rebuild the gate snapshot; bad difference bytes are named errors', () => {
  const g = new AlarmGate(DEFAULT_GATE);
  for (let i = 0; i < 50; i++) g.observe(`EQ_${i % 5}`, i * 1_000, i % 7 === 0 ? 0.9 : 0.1, 0.5);
  const before = g.snapshot();
  for (let i = 50; i < 80; i++) g.observe(`EQ_${i % 7}`, i * 1_000, 0.95, 0.5);
  const after = g.snapshot();
  const w = new StateWriter();
  writeGateDiff(w, before, after);
  const delta = w.finish();
  assert.deepEqual(readGateDiff(new StateReader(delta, 'test delta'), before), after);

  const e = new FeatureEngine({ windowMs: 20_000, bucketCount: 12 });
  const out = new Float64Array(FEATURE_COUNT);
  for (let i = 0; i < 40; i++) e.update(reading(`a${i % 3}`, i, 1_000 * i, 'EQ'), out, 0);
  const s1 = e.snapshot();
  for (let i = 40; i < 60; i++) e.update(reading(`a${i % 3}`, i, 1_000 * i, 'EQ'), out, 0);
  const d = engineDiff(s1, e.snapshot());
  assert.throws(
    () => engineApply(s1, d.subarray(0, d.length - 5)),
    (err: unknown) =>
      err instanceof StateFormatError &&
      /test delta: truncated at byte \d+ reading sensor \d+ bucket/.test(err.message),
  );
  const badMode = d.slice();
  badMode[0] = 7;
  assert.throws(() => engineApply(s1, badMode), /feature-engine delta mode 7 is unknown/);
  // Applied to a state that lacks the sensors it changes: the index is out of range.
  const empty = new FeatureEngine({ windowMs: 20_000, bucketCount: 12 }).snapshot();
  assert.throws(
    () => engineApply(empty, d),
    (err: unknown) =>
      err instanceof StateFormatError &&
      /changed index 0 is out of order or beyond the 0 of the state it applies to/.test(err.message),
  );
});

test('buckets that expire without a new reading (windows not learning during an alarm) are dropped from the rebuilt sensor', () => {
  const e = new FeatureEngine({ windowMs: 12_000, bucketCount: 12 });
  const out = new Float64Array(FEATURE_COUNT);
  for (let t = 6_000; t < 18_000; t += 250) e.update(reading('a', 5 + Math.sin(t), t, 'EQ'), out, 0); // all 12 buckets live, head at ring slot 5
  const before = e.snapshot();
  // Not learning: the head moves 3 buckets on, ring slots 6-8 expire in the middle, nothing is added.
  e.update(reading('a', 9, 20_500, 'EQ'), out, 0, false);
  const after = e.snapshot();
  assert.ok(after.length === before.length - 3 * 56, `${before.length} -> ${after.length}`);
  assert.deepEqual(engineApply(before, engineDiff(before, after)), after);
});
