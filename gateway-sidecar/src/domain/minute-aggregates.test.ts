import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AggregateOnlyState, type MinuteAggregate } from './minute-aggregates.ts';
import type { ScoredReading } from './detection.ts';
import { StateFormatError } from './state-codec.ts';

function scored(
  tag: string,
  equipmentId: string,
  t: number,
  value: number,
  isAnomaly: boolean,
  quality: 'good' | 'uncertain' = 'good',
): ScoredReading {
  return {
    reading: {
      kind: 'sensor',
      tag: {
        tagPath: tag,
        equipmentId,
        sensorType: 'temperature',
        unit: '',
        engLow: 0,
        engHigh: 100,
        thresholds: undefined,
        sensorIndex: 0,
      },
      value,
      quality,
      sourceTimestampMs: t,
      receivedTimestampMs: t,
    },
    eventId: `${tag}@${t}`,
    features: {},
    score: isAnomaly ? 0.9 : 0.1,
    ifScore: 0,
    rfScore: 0,
    isAnomaly,
    severity: isAnomaly ? 'high' : 'low',
    modelVersion: 'm@1',
    explanation: [],
  } as ScoredReading;
}

test('minute aggregates: one row per tag and minute, written when the sensor moves to a later minute or the stream time is closeAfterMs past the minute', () => {
  const s = new AggregateOnlyState(0, 60_000);
  const first = s.take([
    scored('a', 'E1', 60_000, 5, false),
    scored('a', 'E1', 61_000, 7, false, 'uncertain'),
    scored('b', 'E1', 61_000, 1, false),
    scored('a', 'E1', 119_999, 3, false),
  ]);
  assert.deepEqual(first.minutes, [], 'no minute is over yet');
  // a moves on to the next minute: its minute 60 000 is final.
  assert.deepEqual(s.take([scored('a', 'E1', 120_000, 9, false)]).minutes, [
    {
      tagPath: 'a',
      equipmentId: 'E1',
      sensorType: 'temperature',
      minuteMs: 60_000,
      count: 3,
      goodCount: 2,
      min: 3,
      max: 7,
      sum: 15,
      sumSquares: 83,
      first: 5,
      last: 3,
    },
  ]);
  // b never reports again; the stream time reaching 60 000 + 60 s + 60 s closes its minute.
  assert.deepEqual(s.take([scored('c', 'E2', 179_999, 0, false)]).minutes, []);
  // (c itself moved on from minute 120 000: written by the move.)
  assert.deepEqual(
    s.take([scored('c', 'E2', 180_000, 0, false)]).minutes.map((m) => [m.tagPath, m.minuteMs, m.count]),
    [
      ['c', 120_000, 1],
      ['b', 60_000, 1],
    ],
  );
  assert.deepEqual(
    s.take([scored('c', 'E2', 240_000, 0, false)]).minutes.map((m) => [m.tagPath, m.minuteMs, m.count]),
    [
      ['c', 180_000, 1],
      ['a', 120_000, 1],
    ],
  );
  // A late reading of a written minute writes it again with more samples.
  assert.deepEqual(
    s
      .take([scored('a', 'E1', 120_500, 1, false)])
      .minutes.map((m) => [m.tagPath, m.minuteMs, m.count, m.last]),
    [['a', 120_000, 2, 1]],
  );
});

test("anomaly context: the anomaly and the same equipment's readings up to contextMs after it are kept, others are not", () => {
  const s = new AggregateOnlyState(5_000);
  const { keep } = s.take([
    scored('a', 'E1', 1_000, 1, false),
    scored('a', 'E1', 2_000, 1, true),
    scored('b', 'E1', 2_000, 1, false),
    scored('c', 'E2', 3_000, 1, false),
    scored('a', 'E1', 7_000, 1, false),
    scored('a', 'E1', 7_001, 1, false),
  ]);
  assert.deepEqual(
    keep.map((k) => k.eventId),
    ['a@2000', 'b@2000', 'a@7000'],
  );
});

const stepArb = fc.record({
  tag: fc.constantFrom('a', 'b', 'c'),
  dt: fc.integer({ min: 0, max: 40_000 }),
  value: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  anomaly: fc.boolean(),
  good: fc.boolean(),
});

test('snapshot → restore → continue writes the same minutes and context rows as an uninterrupted state (property)', () => {
  fc.assert(
    fc.property(
      fc.array(stepArb, { maxLength: 80 }),
      fc.array(stepArb, { minLength: 1, maxLength: 80 }),
      (before, after) => {
        const toScored = (steps: typeof before, t0: number): { rows: ScoredReading[]; t: number } => {
          let t = t0;
          const rows = steps.map((st) => {
            t += st.dt;
            return scored(
              st.tag,
              st.tag === 'c' ? 'E2' : 'E1',
              t,
              st.value,
              st.anomaly,
              st.good ? 'good' : 'uncertain',
            );
          });
          return { rows, t };
        };
        const first = toScored(before, 0);
        const second = toScored(after, first.t).rows;
        const whole = new AggregateOnlyState(30_000);
        whole.take(first.rows);
        const expected = whole.take(second);
        const part = new AggregateOnlyState(30_000);
        part.take(first.rows);
        const moved = new AggregateOnlyState(30_000);
        moved.restore(part.snapshot());
        const got = moved.take(second);
        assert.deepEqual(
          got.keep.map((k) => k.eventId),
          expected.keep.map((k) => k.eventId),
        );
        const key = (m: MinuteAggregate): string => JSON.stringify(m);
        assert.deepEqual(got.minutes.map(key), expected.minutes.map(key));
        assert.deepEqual(moved.snapshot(), whole.snapshot());
      },
    ),
    {
      numRuns: 150,
      // Found by CI: tags first seen in one order and marked dirty in another closed in a different order after a restore.
      examples: [
        [
          (
            [
              { tag: 'a', dt: 17370 },
              { tag: 'a', dt: 17846 },
              { tag: 'a', dt: 11040 },
              { tag: 'c', dt: 13744 },
              { tag: 'a', dt: 0 },
            ] as const
          ).map((x) => ({ ...x, value: 0, anomaly: false, good: false })),
          (
            [
              { tag: 'a', dt: 813 },
              { tag: 'a', dt: 2632 },
              { tag: 'a', dt: 30910 },
              { tag: 'b', dt: 26555 },
              { tag: 'b', dt: 34294 },
              { tag: 'b', dt: 12420 },
              { tag: 'b', dt: 12376 },
            ] as const
          ).map((x) => ({ ...x, value: 0, anomaly: false, good: false })),
        ],
      ],
    },
  );
});

test('restore rejects a snapshot taken with another context length or truncated, leaving the state empty', () => {
  const s = new AggregateOnlyState(5_000);
  s.take([scored('a', 'E1', 1_000, 1, true)]);
  const snap = s.snapshot();
  const other = new AggregateOnlyState(6_000);
  assert.throws(
    () => other.restore(snap),
    (e: unknown) =>
      e instanceof StateFormatError && /taken with contextMs 5000, this worker has 6000/.test(e.message),
  );
  const same = new AggregateOnlyState(5_000);
  assert.throws(
    () => same.restore(snap.slice(0, snap.length - 3)),
    (e: unknown) => e instanceof StateFormatError && /minute-aggregate snapshot: truncated/.test(e.message),
  );
  assert.deepEqual(same.snapshot(), new AggregateOnlyState(5_000).snapshot());
});

test('a minute that closes inside a batch is written with its final values; batching does not change the rows (property)', () => {
  const s = new AggregateOnlyState(0);
  const { minutes } = s.take([
    scored('a', 'E1', 59_000, 1, false),
    scored('a', 'E1', 59_500, 2, false),
    scored('a', 'E1', 60_000, 3, false),
  ]);
  assert.deepEqual(
    minutes.map((m) => [m.minuteMs, m.count, m.last]),
    [[0, 2, 2]],
  );

  fc.assert(
    fc.property(
      fc.array(stepArb, { minLength: 1, maxLength: 120 }),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }),
      (steps, cuts) => {
        let t = 0;
        const rows = steps.map((st) => {
          t += st.dt;
          return scored(st.tag, 'E1', t, st.value, st.anomaly);
        });
        // Last write per (tag, minute) is what the table holds.
        const table = (batches: ScoredReading[][]): string[] => {
          const state = new AggregateOnlyState(10_000);
          const last = new Map<string, string>();
          for (const b of batches)
            for (const m of state.take(b).minutes) last.set(`${m.tagPath}@${m.minuteMs}`, JSON.stringify(m));
          return [...last.entries()].sort().map(([k, v]) => `${k} ${v}`);
        };
        const batches: ScoredReading[][] = [];
        let at = 0;
        for (let i = 0; at < rows.length; i++) {
          const size = cuts[i % cuts.length] as number;
          batches.push(rows.slice(at, at + size));
          at += size;
        }
        assert.deepEqual(table(batches), table([rows]));
      },
    ),
    { numRuns: 150 },
  );
});
