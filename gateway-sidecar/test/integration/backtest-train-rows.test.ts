// The plain backtest CLI when --train-rows leaves a file with nothing to score: a message names the
// file and its row count; with no file left to score it exits 2 instead of printing F1 0.000.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const tmp = mkdtempSync(join(tmpdir(), 'backtest-train-rows-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function csv(name: string, rows: number): string {
  const lines = ['timestamp,pressure,flow'];
  for (let i = 0; i < rows; i++)
    lines.push(
      `${1_700_000_000 + i},${(5 + 0.05 * Math.sin(i * 1.3)).toFixed(4)},${(40 + 0.2 * Math.cos(i * 0.7)).toFixed(3)}`,
    );
  const file = join(tmp, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function backtest(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/backtest.ts', ...args], {
    cwd: resolve(import.meta.dirname, '../..'),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--train-rows larger than every file: the files and their row counts are named, exit 2, no F1 printed', () => {
  const a = csv('short-a.csv', 120);
  const b = csv('short-b.csv', 300);
  const r = backtest('--train-rows', '300', a, b);
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 120 rows, none left to score after --train-rows 300`,
    ),
  );
  assert.match(r.stderr, /short-b\.csv: 300 rows, none left to score after --train-rows 300/);
  assert.match(r.stderr, /nothing to score: no file has more than --train-rows 300 rows/);
  assert.doesNotMatch(r.stdout, /F1|POOLED/);
});

test('one file too short among scorable ones: it is named, the others are scored', () => {
  const short = csv('short.csv', 50);
  const long = csv('long.csv', 260);
  const r = backtest('--train-rows', '200', short, long);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /short\.csv: 50 rows, none left to score after --train-rows 200/);
  assert.doesNotMatch(r.stderr, /long\.csv: \d+ rows, none left/);
  assert.match(r.stdout, /^long\.csv\s+60\s/m);
});
