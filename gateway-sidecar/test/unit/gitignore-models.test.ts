// Retrained candidates land in models/if-rf-ensemble/r<timestamp>[-n]/ (learning-retrain.ts,
// main-learning.ts): git must ignore them, while the release folders (1.0.0, 1.1.0 …) and every
// tracked file under models/ stay tracked. Uses the repository's real .gitignore through git.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../../..');
const git = (...args: string[]) => spawnSync('git', ['-C', REPO, ...args], { encoding: 'utf8' });
const inRepo = git('rev-parse', '--is-inside-work-tree').stdout.trim() === 'true';

test(
  'retrained version folders are ignored; release folders and tracked model files are not',
  { skip: !inRepo && 'not a git checkout' },
  () => {
    for (const path of [
      'models/if-rf-ensemble/r20261129T000000Z/model.onnx',
      'models/if-rf-ensemble/r20261129T152233Z-481516/model.json',
    ]) {
      assert.equal(git('check-ignore', '-q', '--no-index', path).status, 0, `${path} is ignored`);
    }
    for (const path of [
      'models/if-rf-ensemble/1.1.0/model.onnx',
      'models/if-rf-ensemble/2.0.0/model.json',
      'models/README.md',
    ]) {
      assert.equal(git('check-ignore', '-q', '--no-index', path).status, 1, `${path} is not ignored`);
    }
    const tracked = git('ls-files', 'models').stdout.trim().split('\n');
    assert.ok(
      tracked.some((f) => f.startsWith('models/if-rf-ensemble/1.1.0/')),
      'a release folder is tracked',
    );
    assert.equal(
      git('ls-files', '-ci', '--exclude-standard', 'models').stdout.trim(),
      '',
      'no tracked model file matches an ignore rule',
    );
  },
);
