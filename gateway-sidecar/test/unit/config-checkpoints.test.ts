// Config keys of incremental scale-out checkpoints (scale.checkpointFullEvery,
// scale.checkpointChainMaxRatio): defaults equal the worker's, bad values are refused naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config.ts';
import { checkChainOptions, DEFAULT_CHAIN } from '../../src/app/checkpoint-chain.ts';
import { SidecarError } from '../../src/errors.ts';

test('checkpoint chain defaults: a base every 24 checkpoints, chain at most the base size; the worker has the same defaults', () => {
  const s = parseConfig({}).scale;
  assert.equal(s.checkpointFullEvery, 24);
  assert.equal(s.checkpointChainMaxRatio, 1);
  assert.deepEqual(
    { fullEvery: s.checkpointFullEvery, maxChainRatio: s.checkpointChainMaxRatio },
    DEFAULT_CHAIN,
  );
  const custom = parseConfig({ scale: { checkpointFullEvery: 1, checkpointChainMaxRatio: 0.25 } }).scale;
  assert.equal(custom.checkpointFullEvery, 1);
  assert.equal(custom.checkpointChainMaxRatio, 0.25);
});

test('bad checkpoint chain values are refused with the key and the reason', () => {
  for (const [bad, pattern] of [
    [{ checkpointFullEvery: 0 }, /scale\.checkpointFullEvery.*at least 1/],
    [{ checkpointFullEvery: 2.5 }, /scale\.checkpointFullEvery.*whole number/],
    [{ checkpointFullEvery: 20_000 }, /scale\.checkpointFullEvery.*at most 10000/],
    [{ checkpointFullEvery: '24' }, /scale\.checkpointFullEvery.*must be a number/],
    [{ checkpointChainMaxRatio: 0 }, /scale\.checkpointChainMaxRatio.*greater than 0/],
    [{ checkpointChainMaxRatio: 1_000 }, /scale\.checkpointChainMaxRatio.*at most 100/],
  ] as const) {
    assert.throws(
      () => parseConfig({ scale: bad }),
      (e: unknown) =>
        e instanceof SidecarError && e.code === 'SC_ERR_CONFIG_INVALID' && pattern.test(e.message),
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () => checkChainOptions({ fullEvery: 0, maxChainRatio: 1 }),
    /checkpointFullEvery must be an integer >= 1, got '0'/,
  );
  assert.throws(
    () => checkChainOptions({ fullEvery: 4, maxChainRatio: Number.NaN }),
    /checkpointChainMaxRatio must be a finite number > 0, got 'NaN'/,
  );
});
