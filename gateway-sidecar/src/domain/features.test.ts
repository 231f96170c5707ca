import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_COUNT, FEATURE_INDEX as F, FEATURE_NAMES, FeatureEngine } from './features.ts';
import type { SensorReading } from './tag-event.ts';
import fc from 'fast-check';
import { StateFormatError } from './state-codec.ts';

function reading(tag: string, value: number, t: number, equipmentId = 'EQ'): SensorReading {
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

test('FEATURE_NAMES is the documented 16-name contract, unique', () => {
  assert.equal(FEATURE_COUNT, 16);
  assert.equal(new Set(FEATURE_NAMES).size, FEATURE_COUNT);
  assert.deepEqual(FEATURE_NAMES.slice(0, 5), [
    'value',
    'rolling_mean',
    'rolling_std',
    'z_score',
    'rate_of_change',
  ]);
});

test('rolling mean/std/min/max equal a brute-force window at bucket granularity', () => {
  const windowMs = 10_000;
  const buckets = 10;
  const e = new FeatureEngine({ windowMs, bucketCount: buckets });
  const out = new Float64Array(FEATURE_COUNT);
  const hist: { t: number; v: number }[] = [];
  let t = 0;
  let seed = 5;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 3000; i++) {
    t += Math.floor(rnd() * 400);
    const v = 230 + Math.sin(i / 50) * 3 + rnd();
    e.update(reading('a', v, t), out, 0);
    // the features were computed before v entered: compare with history excluding v
    const head = Math.floor(t / (windowMs / buckets));
    const live = hist.filter((h) => head - Math.floor(h.t / (windowMs / buckets)) < buckets);
    if (live.length > 1) {
      const mean = live.reduce((a, h) => a + h.v, 0) / live.length;
      const sd = Math.sqrt(live.reduce((a, h) => a + (h.v - mean) ** 2, 0) / live.length);
      assert.ok(Math.abs((out[F.rolling_mean] as number) - mean) < 1e-9, `mean at ${i}`);
      assert.ok(
        Math.abs((out[F.rolling_std] as number) - sd) < 1e-6,
        `std at ${i}: ${out[F.rolling_std]} vs ${sd}`,
      );
      assert.equal(out[F.rolling_min], Math.min(v, ...live.map((h) => h.v)));
      assert.equal(out[F.rolling_max], Math.max(v, ...live.map((h) => h.v)));
    }
    hist.push({ t, v });
  }
});

test('state is bounded: bytes do not grow with events, ~5.5 KB per sensor with 96 buckets', () => {
  const e = new FeatureEngine({ windowMs: 86_400_000, bucketCount: 96 });
  const out = new Float32Array(FEATURE_COUNT);
  e.update(reading('a', 1, 0), out, 0);
  const before = e.stateBytes;
  for (let i = 1; i < 50_000; i++) e.update(reading('a', i % 7, i * 1000), out, 0);
  assert.equal(e.stateBytes, before);
  for (let s = 0; s < 3071; s++) e.update(reading(`s${s}`, 1, 0), out, 0);
  assert.ok(e.stateBytes / e.sensorCount < 6_000, `${e.stateBytes / e.sensorCount} bytes per sensor`);
});

test('first reading, steps, rate of change, time since change, position in range', () => {
  const e = new FeatureEngine({ windowMs: 60_000, bucketCount: 6 });
  const o = new Float64Array(FEATURE_COUNT);
  e.update(reading('a', 10, 0), o, 0);
  assert.equal(o[F.rate_of_change], 0);
  assert.equal(o[F.z_score], 0);
  for (let i = 1; i <= 20; i++) e.update(reading('a', 10 + (i % 2) * 0.1, i * 1000), o, 0);
  e.update(reading('a', 12, 21_000), o, 0);
  assert.ok(Math.abs((o[F.rate_of_change] as number) - 2) < 1e-9, 'per second');
  assert.ok((o[F.z_score] as number) > 10, `a 2-unit step on 0.05 std is many sigmas, got ${o[F.z_score]}`);
  assert.ok((o[F.step_z] as number) > 10);
  assert.equal(o[F.position_in_range], 1);
  e.update(reading('a', 12, 25_000), o, 0);
  assert.equal(o[F.time_since_change], 4);
});

test('learn=false leaves the window untouched (alarm gating)', () => {
  const a = new FeatureEngine({ windowMs: 60_000, bucketCount: 6 });
  const b = new FeatureEngine({ windowMs: 60_000, bucketCount: 6 });
  const oa = new Float64Array(FEATURE_COUNT);
  const ob = new Float64Array(FEATURE_COUNT);
  for (let i = 0; i < 10; i++) {
    a.update(reading('x', i, i * 100), oa, 0);
    b.update(reading('x', i, i * 100), ob, 0);
  }
  b.update(reading('x', 1000, 1_000), ob, 0, false);
  a.update(reading('x', 5, 1_100), oa, 0);
  b.update(reading('x', 5, 1_100), ob, 0);
  assert.equal(oa[F.rolling_mean], ob[F.rolling_mean]);
  assert.equal(oa[F.rolling_max], ob[F.rolling_max]);
});

test('window expiry forgets old data; equipment deviation rises when several sensors move', () => {
  const e = new FeatureEngine({ windowMs: 10_000, bucketCount: 10 });
  const o = new Float64Array(FEATURE_COUNT);
  for (let i = 0; i < 10; i++) e.update(reading('x', 100, i * 1000), o, 0);
  e.update(reading('x', 5, 100_000), o, 0);
  assert.equal(o[F.rolling_mean], 5, 'everything older than the window expired');
  const g = new FeatureEngine({ windowMs: 600_000, bucketCount: 10 });
  for (let i = 0; i < 100; i++)
    for (const s of ['p', 'q', 'r']) g.update(reading(s, 50 + (i % 3), i * 1000), o, 0);
  const calm = o[F.equipment_deviation] as number;
  for (let i = 100; i < 130; i++)
    for (const s of ['p', 'q', 'r']) g.update(reading(s, 70, i * 1000), o, 0, false);
  assert.ok((o[F.equipment_deviation] as number) > 5 * calm + 3, `${calm} -> ${o[F.equipment_deviation]}`);
});

test('rejects bad options with a message naming the key', () => {
  assert.throws(
    () => new FeatureEngine({ windowMs: -5, bucketCount: 10 }),
    /windowMs must be a positive integer, got '-5'/,
  );
  assert.throws(() => new FeatureEngine({ windowMs: 1000, bucketCount: 1 }), /bucketCount/);
});

// ── Snapshots (docs/scale-out.md: a partition moves with its state) ─────────────────────────────

interface Step {
  readonly sensor: number;
  readonly dt: number;
  readonly value: number;
  readonly learn: boolean;
}

function feed(engine: FeatureEngine, steps: readonly Step[], t0: number): { rows: Float64Array; t: number } {
  const rows = new Float64Array(steps.length * FEATURE_COUNT);
  let t = t0;
  steps.forEach((s, i) => {
    t += s.dt;
    // Sensors 0-2 on one equipment, 3-4 on another: equipment_deviation crosses sensors.
    engine.update(
      reading(`s${s.sensor}`, s.value, t, s.sensor < 3 ? 'EQ_A' : 'EQ_B'),
      rows,
      i * FEATURE_COUNT,
      s.learn,
    );
  });
  return { rows, t };
}

const stepArb = fc.record({
  sensor: fc.integer({ min: 0, max: 4 }),
  // Mostly forward, sometimes late (negative) or a jump past the whole window.
  dt: fc.oneof(fc.integer({ min: 0, max: 900 }), fc.integer({ min: -3_000, max: 0 }), fc.constant(25_000)),
  value: fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 3 })),
  learn: fc.boolean(),
});

test('snapshot → restore → continue gives bit-identical features to an uninterrupted engine (property)', () => {
  const opts = { windowMs: 20_000, bucketCount: 12 };
  fc.assert(
    fc.property(
      fc.array(stepArb, { minLength: 1, maxLength: 300 }),
      fc.array(stepArb, { minLength: 1, maxLength: 300 }),
      (before, after) => {
        const whole = new FeatureEngine(opts);
        const wholeBefore = feed(whole, before, 1_000_000);
        const wholeAfter = feed(whole, after, wholeBefore.t);

        const first = new FeatureEngine(opts);
        feed(first, before, 1_000_000);
        const moved = new FeatureEngine(opts);
        moved.restore(first.snapshot());
        const movedAfter = feed(moved, after, wholeBefore.t);

        assert.equal(movedAfter.rows.length, wholeAfter.rows.length);
        for (let i = 0; i < wholeAfter.rows.length; i++) {
          assert.ok(
            Object.is(movedAfter.rows[i], wholeAfter.rows[i]),
            `feature ${FEATURE_NAMES[i % FEATURE_COUNT]} of row ${Math.floor(i / FEATURE_COUNT)}: ${movedAfter.rows[i]} vs ${wholeAfter.rows[i]}`,
          );
        }
        // The state itself is identical too (same bytes when snapshotted again).
        assert.deepEqual(moved.snapshot(), whole.snapshot());
        assert.equal(moved.sensorCount, whole.sensorCount);
      },
    ),
    { numRuns: 200 },
  );
});

test('restore rejects foreign, truncated, other-version and other-option snapshots with a clear error, leaving the engine empty', () => {
  const e = new FeatureEngine({ windowMs: 60_000, bucketCount: 6 });
  const out = new Float64Array(FEATURE_COUNT);
  for (let i = 0; i < 50; i++) e.update(reading(`t${i % 3}`, 10 + (i % 7), 1_000 * i), out, 0);
  const snap = e.snapshot();
  const target = new FeatureEngine({ windowMs: 60_000, bucketCount: 6 });
  target.update(reading('other', 1, 0), out, 0);

  const bad = (bytes: Uint8Array, pattern: RegExp, into = target): void => {
    assert.throws(
      () => into.restore(bytes),
      (err: unknown) => err instanceof StateFormatError && pattern.test(err.message),
    );
    assert.equal(into.sensorCount, 0, 'a failed restore must leave the engine empty');
  };
  bad(
    snap.slice(0, snap.length - 9),
    /feature-engine snapshot: truncated at byte \d+ reading sensor 't2' bucket/,
  );
  bad(new TextEncoder().encode('{"not":"a snapshot"}'), /not a AIFE snapshot/);
  const v2 = snap.slice();
  v2[4] = 2;
  bad(v2, /format version 2 is not supported \(this build reads version 1\)/);
  bad(new Uint8Array([...snap, 0]), /1 unexpected trailing bytes/);
  bad(
    snap,
    /taken with windowMs 60000, this engine has 120000/,
    new FeatureEngine({ windowMs: 120_000, bucketCount: 6 }),
  );
  bad(
    snap,
    /taken with bucketCount 6, this engine has 8/,
    new FeatureEngine({ windowMs: 60_000, bucketCount: 8 }),
  );

  target.restore(snap);
  assert.equal(target.sensorCount, 3);
  assert.deepEqual(target.snapshot(), snap);
});

test('snapshot size per sensor is bounded by the bucket count, whatever the number of readings', () => {
  const e = new FeatureEngine({ windowMs: 86_400_000, bucketCount: 96 });
  const out = new Float64Array(FEATURE_COUNT);
  const tag = '[default]Plant/Area1/EQ_0001/Temperature'; // 40 characters
  for (let i = 0; i < 20_000; i++) e.update(reading(tag, 60 + Math.sin(i / 30), i * 10_000), out, 0); // > 2 days at 0.1 Hz
  const size = e.snapshot().length;
  // header 42 + equipment 4+4+2+16 + sensors 4 + tag 4+40 + scalars 144 + bitmap 12 + 96 live buckets × 56
  assert.equal(size, 42 + 26 + 4 + 44 + 144 + 12 + 96 * 56);
});
