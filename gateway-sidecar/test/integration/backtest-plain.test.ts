// The backtest on a plain comma-separated CSV without labels (made here, not SKAB): it runs,
// writes one prediction per scored row, flags the injected step and reports FAR/episodes only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

test('plain CSV, unlabelled: predictions per row, the step is flagged, summary has no labels', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'backtest-plain-'));
  try {
    const lines = ['timestamp,pressure,flow'];
    for (let i = 0; i < 900; i++) {
      const step = i >= 700 ? 3 : 0;
      lines.push(
        `${1_700_000_000 + i},${(5 + 0.05 * Math.sin(i * 1.3) + step).toFixed(4)},${(40 + 0.2 * Math.cos(i * 0.7)).toFixed(3)}`,
      );
    }
    const csv = join(tmp, 'plant.csv');
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const out = join(tmp, 'preds.csv');
    const summaryPath = join(tmp, 's.json');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/backtest.ts', '--out', out, '--summary', summaryPath, csv],
      {
        cwd: resolve(import.meta.dirname, '../..'),
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const preds = readFileSync(out, 'utf8').trim().split('\n').slice(1);
    assert.equal(preds.length, 500);
    const flaggedAt = preds.map((l, k) => (l.endsWith(',1') ? k + 400 : -1)).filter((k) => k >= 0);
    assert.ok(
      flaggedAt.some((k) => k >= 700 && k < 720),
      'the step at row 700 is flagged within 20 rows',
    );
    assert.ok(
      flaggedAt.filter((k) => k < 700).length < 15,
      `few flags before the step: ${flaggedAt.filter((k) => k < 700).length}`,
    );
    assert.match(preds[0] as string, /^plant\.csv,2023-11-14T22:\d\d:\d\d\.000Z,0\.\d{6},[01]$/);
    const s = JSON.parse(readFileSync(summaryPath, 'utf8')) as {
      files: number;
      rows: number;
      episodes_per_hour: number;
    };
    assert.equal(s.files, 1);
    assert.equal(s.rows, 500);
    assert.ok(s.episodes_per_hour > 0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
