// Which model folder serves when neither ensemble.modelDir nor the registry names one: the highest
// shipped release, never a retrained candidate that `npm run retrain` left beside it (a candidate
// the promotion gate refused must not start serving at the next restart).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shippedModelDir } from '../../src/main-detection.ts';

function modelsRoot(versions: readonly string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'shipped-model-dir-'));
  for (const v of versions) {
    const dir = join(root, 'if-rf-ensemble', v);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.json'), '{}');
  }
  return root;
}

test('a retrained candidate folder (r<time>) beside the releases is never the default', () => {
  const root = modelsRoot(['1.0.0', '1.1.0', 'r20261129T145521Z', 'r20261129T150000Z-123']);
  try {
    assert.equal(shippedModelDir(root), join(root, 'if-rf-ensemble', '1.1.0'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('releases compare numerically and folders without model.json are skipped', () => {
  const root = modelsRoot(['1.9.0', '1.10.0']);
  mkdirSync(join(root, 'if-rf-ensemble', '2.0.0'));
  try {
    assert.equal(shippedModelDir(root), join(root, 'if-rf-ensemble', '1.10.0'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
