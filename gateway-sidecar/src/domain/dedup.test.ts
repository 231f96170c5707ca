import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dedupKey, floodSummaryKey, recommendationIdFor, windowStartMs } from './dedup.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

test('repeats inside one window share the key; the next window gets a new key', () => {
  const a = dedupKey('REACTOR_01', 'overheating', T0 + 1_000, 5);
  const b = dedupKey('REACTOR_01', 'overheating', T0 + 4 * 60_000 + 59_999, 5);
  const c = dedupKey('REACTOR_01', 'overheating', T0 + 5 * 60_000, 5);
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.equal(a, 'REACTOR_01|overheating|2026-03-01T10:00:00.000Z');
});

test('equipment and issue type are part of the identity', () => {
  assert.notEqual(dedupKey('A', 'leak', T0, 5), dedupKey('B', 'leak', T0, 5));
  assert.notEqual(dedupKey('A', 'leak', T0, 5), dedupKey('A', 'cavitation', T0, 5));
});

test('window start is epoch aligned and rejects a non-positive window', () => {
  assert.equal(windowStartMs(T0 + 61_000, 1), T0 + 60_000);
  assert.throws(() => windowStartMs(T0, 0), RangeError);
  assert.throws(() => windowStartMs(T0, Number.NaN), RangeError);
});

test('flood summary key groups per area and 10-minute window', () => {
  assert.equal(floodSummaryKey('Reactors', T0 + 9 * 60_000), floodSummaryKey('Reactors', T0));
  assert.notEqual(floodSummaryKey('Reactors', T0 + 10 * 60_000), floodSummaryKey('Reactors', T0));
  assert.notEqual(floodSummaryKey('Utilities', T0), floodSummaryKey('Reactors', T0));
});

test('ids are stable per key and differ between keys', () => {
  const k = dedupKey('REACTOR_01', 'leak', T0, 5);
  assert.equal(recommendationIdFor(k), recommendationIdFor(k));
  assert.match(recommendationIdFor(k), /^rec-[0-9a-f]{16}$/);
  const ids = new Set<string>();
  for (let i = 0; i < 5000; i++)
    ids.add(recommendationIdFor(dedupKey(`EQ_${i % 50}`, 'leak', T0 + i * 300_000, 5)));
  assert.equal(ids.size, 5000);
});
