import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addConfusion, addRow, countEpisodes, emptyConfusion, figuresOf } from './metrics.ts';

test('F1 / FAR / MAR from confusion counts', () => {
  const c = emptyConfusion();
  const labels = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
  const flags = [true, true, true, false, true, false, false, false, false, false];
  labels.forEach((l, i) => addRow(c, l, flags[i] as boolean));
  assert.deepEqual(c, { tp: 3, fp: 1, tn: 5, fn: 1 });
  const f = figuresOf(c);
  assert.equal(f.f1, 6 / 8);
  assert.equal(f.far, 1 / 6);
  assert.equal(f.mar, 1 / 4);
  const pooled = emptyConfusion();
  addConfusion(pooled, c);
  addConfusion(pooled, { tp: 0, fp: 0, tn: 4, fn: 0 });
  assert.equal(figuresOf(pooled).far, 1 / 10, 'pooling adds counts, not ratios');
  assert.deepEqual(figuresOf(emptyConfusion()), { f1: 0, far: 0, mar: 0 });
});

test('episodes: re-raised within the dedup window is the same episode', () => {
  const t = [0, 60, 120, 180, 600, 660, 2_000].map((s) => s * 1000);
  const flagged = [true, false, true, false, true, false, true];
  assert.equal(
    countEpisodes(t, flagged, 300_000),
    3,
    '0 and 120 s merge; 600 s is 480 s after 120 s; 2000 s is new',
  );
  assert.equal(countEpisodes(t, flagged, 0), 4);
  assert.equal(
    countEpisodes(
      t,
      flagged.map(() => false),
      300_000,
    ),
    0,
  );
});
