import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateNormal, injectFault, randomFault, FAULT_KINDS } from './fault-injection.ts';
import { createRng } from './random.ts';
import { fitIsolationForest, scoreIsolationForest } from './isolation-forest.ts';

test('faults change only the chosen sensors inside the fault window, and are seeded', () => {
  const s = generateNormal(createRng(1), 4, 500);
  assert.deepEqual(generateNormal(createRng(1), 4, 500).values[2], s.values[2], 'same seed, same history');
  for (const kind of FAULT_KINDS) {
    const f = { kind, start: 200, length: 100, sensors: [1], magnitude: 8 };
    const g = injectFault(createRng(2), s, f);
    assert.deepEqual(g.values[0], s.values[0]);
    const a = s.values[1] as Float64Array;
    const b = g.values[1] as Float64Array;
    assert.deepEqual(b.slice(0, 200), a.slice(0, 200));
    assert.deepEqual(b.slice(300), a.slice(300));
    let diff = 0;
    for (let t = 200; t < 300; t++) diff += Math.abs((b[t] as number) - (a[t] as number));
    assert.ok(diff > 0, `${kind} changed the signal`);
  }
  const g = injectFault(createRng(2), s, {
    kind: 'step',
    start: 200,
    length: 100,
    sensors: [3],
    magnitude: 5,
  });
  const d = ((g.values[3] as Float64Array)[250] as number) - ((s.values[3] as Float64Array)[250] as number);
  assert.ok(Math.abs(Math.abs(d) - 5 * (s.sigma[3] as number)) < 1e-9, 'a step is magnitude × sigma');
  const r = createRng(9);
  for (let i = 0; i < 200; i++) {
    const f = randomFault(r, 5, 100, 600);
    assert.ok(f.start >= 100 && f.start + f.length <= 600 + 10 && f.sensors.length >= 1);
  }
});

test('isolation forest ranks an outlier above normal points', () => {
  const rng = createRng(4);
  const x = new Float32Array(600 * 2);
  for (let i = 0; i < x.length; i++) x[i] = rng();
  const m = fitIsolationForest(x, 2, { trees: 50, seed: 3 });
  const probe = Float32Array.from([0.5, 0.5, 9, 9]);
  assert.ok(scoreIsolationForest(m, probe, 2) > scoreIsolationForest(m, probe, 0) + 0.15);
});
