// Runs the real feedback backtest CLI (`backtest --feedback`) on four SKAB valve1 files (read from
// ../shared/data/skab, never copied) with a small synthetic part so it stays quick, and checks the
// protocol: round 0 equals the plain backtest, the summary's `rounds` equal the printed table,
// the simulated operator never answers more than was raised, each fold's model learns only from the
// other fold's answers, and a retrain that the gate promotes changes what the fold's files score.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { skabMissing, skabPath } from '../fixtures/skab-data.ts';

const dir = skabPath('valve1');
const cwd = resolve(import.meta.dirname, '../..');

interface Retrain {
  fold: number;
  promoted: boolean;
  answers_used: number;
  labelled_rows: number;
  holdout_rows: number;
  threshold: number;
  gate: string;
}
interface Round {
  round: number;
  files: number;
  rows: number;
  f1: number;
  far: number;
  mar: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  raised: number;
  answers: number;
  approved: number;
  rejected: number;
  fp_in_approved: number;
  fp_in_rejected: number;
  retrains: Retrain[];
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/backtest.ts', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 280_000,
  });
}

/** A small synthetic part for each retrain (the product's is ~500,000 rows): the test's runs take seconds. */
const SMALL_FIT = ['--synthetic-equipments', '12', '--rf-trees', '8', '--rows-per-tree', '4000'];

/** A test on the valve1 files with its own temporary folder, removed afterwards. */
function feedbackTest(name: string, body: (tmp: string) => void): void {
  test(name, { skip: skabMissing('valve1') }, () => {
    const tmp = mkdtempSync(join(tmpdir(), 'backtest-feedback-'));
    try {
      body(tmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

feedbackTest(
  'feedback backtest: rounds, answers ≤ raised, leave-fold-out learning, summary = table',
  (tmp) => {
    // Files with false alarms (0, 2) and a clean one in each fold (fold 0 = 0, 2; fold 1 = 8, 12).
    const files = ['0.csv', '2.csv', '8.csv', '12.csv'].map((f) => join(dir, f));
    const plainPath = join(tmp, 'plain.json');
    const plain = cli(['--summary', plainPath, ...files]);
    assert.equal(plain.status, 0, plain.stderr);
    const summaryPath = join(tmp, 'feedback.json');
    const r = cli([
      '--feedback',
      '--rounds',
      '2',
      '--folds',
      '2',
      '--dedup-minutes',
      '1',
      // The operator answers a minute after each recommendation is raised, from what it saw.
      '--decide-after',
      '60',
      '--seed',
      '7',
      ...SMALL_FIT,
      '--summary',
      summaryPath,
      ...files,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /round 1 fold 0: retrain 7\/7 done/, 'retrain progress on stderr');

    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as {
      files: number;
      rows: number;
      f1: number;
      far: number;
      mar: number;
      rounds: Round[];
      protocol: { folds: number; decide_after_seconds: number | null; seed: number | null };
      target: { met: boolean; far_limit: number; far_last: number; f1_last: number; last_round: number };
    };
    const base = JSON.parse(readFileSync(plainPath, 'utf8')) as {
      rows: number;
      f1: number;
      far: number;
      mar: number;
    };
    assert.equal(summary.rounds.length, 3);
    assert.equal(summary.protocol.folds, 2);
    assert.equal(summary.protocol.decide_after_seconds, 60);
    assert.equal(summary.protocol.seed, 7);
    // The target's verdict is the last round's figures against round 0's, printed and in the summary.
    const last = summary.rounds[summary.rounds.length - 1] as Round;
    assert.equal(summary.target.last_round, last.round);
    assert.equal(summary.target.far_limit, (summary.rounds[0] as Round).far / 2);
    assert.equal(
      summary.target.met,
      last.far <= summary.target.far_limit && last.f1 >= (summary.rounds[0] as Round).f1,
    );
    assert.match(
      r.stdout,
      new RegExp(`^target \\(round 2: .*: ${summary.target.met ? 'met' : 'NOT met'} `, 'm'),
    );
    const [r0, r1, r2] = summary.rounds as [Round, Round, Round];
    // Round 0 is the plain backtest with the default model; the top-level keys are round 0's.
    assert.equal(r0.rows, base.rows);
    assert.equal(r0.f1, base.f1);
    assert.equal(r0.far, base.far);
    assert.equal(summary.f1, r0.f1);
    assert.equal(r0.retrains.length, 0);

    const lines = r.stdout.split('\n');
    for (const x of summary.rounds) {
      assert.equal(x.files, 4);
      assert.equal(x.tp + x.fp + x.tn + x.fn, x.rows);
      assert.ok(Math.abs(x.far - x.fp / (x.fp + x.tn)) < 1e-12);
      assert.ok(Math.abs(x.f1 - (2 * x.tp) / (2 * x.tp + x.fp + x.fn)) < 1e-12);
      // The operator answers only what the system raised, each recommendation once.
      assert.ok(x.answers <= x.raised, `round ${x.round}: ${x.answers} answers > ${x.raised} raised`);
      assert.equal(x.approved + x.rejected, x.answers);
      assert.equal(x.fp_in_approved + x.fp_in_rejected, x.fp);
      const line = lines.find((l) => l.trim().startsWith(`${x.round} `) && l.includes(` ${x.rows} `));
      assert.ok(line, `round ${x.round} printed:\n${r.stdout}`);
      const cols = line.trim().split(/\s+/);
      assert.equal(cols[2], x.f1.toFixed(3));
      assert.equal(cols[3], `${(x.far * 100).toFixed(1)}%`);
      assert.equal(Number(cols[10]), x.raised);
      assert.equal(Number(cols[11]), x.answers);
    }
    assert.ok(
      r0.answers > 0 && r0.answers === r0.raised,
      'round 0: every recommendation is new and answered',
    );
    assert.ok(r0.rejected > 0, 'these files raise false alarms the operator rejects');

    // Leave-fold-out: before round 1 each fold learns from exactly the other fold's round-0 answers.
    assert.equal(r1.retrains.length, 2);
    const answeredIn = (round: number): number => (summary.rounds[round] as Round).answers;
    assert.equal(
      (r1.retrains[0] as Retrain).answers_used + (r1.retrains[1] as Retrain).answers_used,
      answeredIn(0),
    );
    assert.equal(
      (r2.retrains[0] as Retrain).answers_used + (r2.retrains[1] as Retrain).answers_used,
      answeredIn(0) + answeredIn(1),
    );
    for (const t of [...r1.retrains, ...r2.retrains]) {
      assert.ok(t.labelled_rows + t.holdout_rows > 0, `fold ${t.fold} learnt from labelled rows`);
      assert.ok(t.threshold >= 0.5 && t.threshold <= 0.85, 'adapted line inside learning.thresholdMin/Max');
      assert.match(t.gate, /not worse|worse|too small/);
    }
    // A model is only swapped in through the gate: an unpromoted round scores like the round before.
    const promoted = r1.retrains.some((t) => t.promoted);
    if (!promoted) assert.deepEqual([r1.tp, r1.fp, r1.tn, r1.fn], [r0.tp, r0.fp, r0.tn, r0.fn]);
    else
      assert.notDeepEqual(
        [r1.tp, r1.fp, r1.tn, r1.fn],
        [r0.tp, r0.fp, r0.tn, r0.fn],
        'a promoted retrain changes the scores',
      );
  },
);

feedbackTest(
  'feedback backtest --seeds: one run per seed, the same round 0, a line and a verdict per seed',
  (tmp) => {
    const summaryPath = join(tmp, 'sweep.json');
    const r = cli([
      '--feedback',
      '--rounds',
      '1',
      '--seeds',
      '3,4',
      ...SMALL_FIT,
      '--summary',
      summaryPath,
      join(dir, '2.csv'),
      join(dir, '12.csv'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const sweep = JSON.parse(readFileSync(summaryPath, 'utf8')) as {
      seeds: { seed: number; rounds: Round[]; target: { met: boolean }; protocol: { seed: number } }[];
    };
    assert.deepEqual(
      sweep.seeds.map((x) => [x.seed, x.protocol.seed, x.rounds.length]),
      [
        [3, 3, 2],
        [4, 4, 2],
      ],
    );
    const [a, b] = sweep.seeds as [(typeof sweep.seeds)[0], (typeof sweep.seeds)[0]];
    assert.deepEqual(a.rounds[0], b.rounds[0], 'round 0 does not depend on the retrain seed');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4, r.stdout);
    for (const [i, x] of sweep.seeds.entries()) {
      const cols = (lines[i + 1] as string).trim().split(/\s+/);
      assert.equal(Number(cols[0]), x.seed);
      assert.equal(cols[1], `${((x.rounds[0] as Round).far * 100).toFixed(1)}%`);
      assert.equal(cols[6], `${(x.rounds[1] as Round).f1.toFixed(3)}`);
      assert.equal((lines[i + 1] as string).endsWith(x.target.met ? ' met' : ' not met'), true);
    }
    const met = sweep.seeds.filter((x) => x.target.met).length;
    assert.equal(lines[3], `target met in ${met} of 2 seeds`);
  },
);

feedbackTest(
  'feedback backtest refuses files without labels and bad fold counts with clear errors',
  (tmp) => {
    const unlabelled = join(tmp, 'plain.csv');
    const rows = ['datetime;a;b'];
    for (let i = 0; i < 60; i++)
      rows.push(
        `2020-01-01 00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')};${Math.sin(i)};${Math.cos(i)}`,
      );
    writeFileSync(unlabelled, `${rows.join('\n')}\n`);
    const a = cli(['--feedback', '--train-rows', '20', unlabelled, join(dir, '0.csv')]);
    assert.notEqual(a.status, 0);
    assert.match(a.stderr, /plain\.csv: --feedback needs an 'anomaly' label column/);
    const b = cli(['--feedback', '--folds', '3', join(dir, '0.csv'), join(dir, '1.csv')]);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /--folds 3 needs at least 3 files, got 2/);
    const c = cli(['--feedback', '--rounds', '0', join(dir, '0.csv')]);
    assert.equal(c.status, 2);
    assert.match(c.stderr, /--rounds must be an integer >= 1, got '0'/);
    const d = cli(['--feedback', '--decide-after=soon', join(dir, '0.csv'), join(dir, '1.csv')]);
    assert.equal(d.status, 2);
    assert.match(d.stderr, /--decide-after must be an integer >= 0, got 'soon'/);
    const e = cli(['--feedback', '--seeds', '1,1', join(dir, '0.csv'), join(dir, '1.csv')]);
    assert.equal(e.status, 2);
    assert.match(e.stderr, /--seeds must be distinct integers >= 0 separated by commas, got '1,1'/);
    const f = cli(['--feedback', '--seed', '1', '--seeds', '2,3', join(dir, '0.csv'), join(dir, '1.csv')]);
    assert.equal(f.status, 2);
    assert.match(f.stderr, /--seed and --seeds exclude each other/);
  },
);
