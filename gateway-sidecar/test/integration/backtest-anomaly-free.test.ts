// The backtest CLI on SKAB anomaly-free.csv (read from ../shared/data/skab, never copied): the
// issue's alarm-load target, at most 1 alarm episode per hour after the 5-minute dedup, with the
// default settings (fit on the first 400 rows). Measured: 1 episode in 2.65 h, 0.3 % of rows
// flagged (docs/detection.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { skabMissing, skabPath } from '../fixtures/skab-data.ts';

const file = skabPath('anomaly-free.csv');

test(
  'backtest on anomaly-free.csv: at most 1 alarm episode per hour and few flagged rows',
  { skip: skabMissing('anomaly-free.csv') },
  () => {
    const tmp = mkdtempSync(join(tmpdir(), 'backtest-free-'));
    try {
      const summaryPath = join(tmp, 'summary.json');
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/backtest.ts', '--summary', summaryPath, file],
        {
          cwd: resolve(import.meta.dirname, '../..'),
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const s = JSON.parse(readFileSync(summaryPath, 'utf8')) as {
        files: number;
        rows: number;
        far: number;
        episodes_per_hour: number;
      };
      assert.equal(s.files, 1);
      assert.equal(s.rows, 9005);
      assert.ok(s.episodes_per_hour <= 1, `episodes/h ${s.episodes_per_hour}`);
      // No labels: every flagged row is a false alarm, so FAR is the flagged share of the rows.
      assert.ok(s.far <= 0.02, `flagged share ${s.far}`);
      assert.match(r.stdout, /alarm episodes \(5-minute dedup\) \d+ in 2\.65 h/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  },
);

test(
  'backtest --on-delay reaches the alarm gate: the earlier on-delay of 3 ticks gives the 4 episodes the default of 15 removes',
  { skip: skabMissing('anomaly-free.csv') },
  () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/backtest.ts', '--on-delay', '3', file],
      {
        cwd: resolve(import.meta.dirname, '../..'),
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /alarm episodes \(5-minute dedup\) 4 in 2\.65 h = 1\.51\/h/);
    const bad = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/backtest.ts', '--on-delay', '0', file],
      {
        cwd: resolve(import.meta.dirname, '../..'),
        encoding: 'utf8',
      },
    );
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--on-delay must be an integer >= 1, got '0'/);
  },
);
