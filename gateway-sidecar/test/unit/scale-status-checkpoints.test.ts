/** The scale worker's checkpoint metrics tell bases, deltas and refused (stale) deltas apart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScaleStatus } from '../../src/adapters/scale-status.ts';

test('scale_checkpoints_total and scale_checkpoint_state_bytes carry the checkpoint kind; a stale delta writes no bytes', () => {
  const s = new ScaleStatus('w1', () => [0]);
  s.checkpoint(0, 5_600_000, 'base');
  s.checkpoint(0, 280_000, 'delta');
  s.checkpoint(0, 290_000, 'delta');
  s.checkpoint(0, 0, 'stale');
  const text = s.registry.render();
  assert.match(text, /^scale_checkpoints_total\{kind="base",partition="0"\} 1$/m);
  assert.match(text, /^scale_checkpoints_total\{kind="delta",partition="0"\} 2$/m);
  assert.match(text, /^scale_checkpoints_total\{kind="stale",partition="0"\} 1$/m);
  assert.match(text, /^scale_checkpoint_state_bytes\{kind="base",partition="0"\} 5600000$/m);
  assert.match(text, /^scale_checkpoint_state_bytes\{kind="delta",partition="0"\} 290000$/m);
  assert.doesNotMatch(text, /scale_checkpoint_state_bytes\{kind="stale",partition="0"\}/);
});
