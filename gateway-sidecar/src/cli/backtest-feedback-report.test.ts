import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeedbackResult, RoundFigures } from './backtest-feedback.ts';
import { feedbackTarget, printSeedSweep, printTarget } from './backtest-feedback-report.ts';

function round(r: number, f1: number, far: number): RoundFigures {
  return {
    round: r,
    files: 1,
    rows: 100,
    f1,
    far,
    mar: 0.2,
    episodes_per_hour: 1,
    tp: 40,
    fp: 5,
    tn: 45,
    fn: 10,
    raised: 2,
    answers: r === 0 ? 2 : 0,
    approved: r === 0 ? 1 : 0,
    rejected: r === 0 ? 1 : 0,
    fp_in_approved: 3,
    fp_in_rejected: 2,
    retrains: [],
  };
}
const run = (...rounds: [number, number][]): FeedbackResult => ({
  rounds: rounds.map(([f1, far], i) => round(i, f1, far)),
  perFile: [],
});

test('the target: the last round halves round 0 FAR without F1 falling; an earlier round meeting it does not count', () => {
  const met = feedbackTarget(run([0.8, 0.1], [0.79, 0.09], [0.8, 0.05]));
  assert.deepEqual(met, {
    met: true,
    last_round: 2,
    far_round0: 0.1,
    far_last: 0.05,
    far_limit: 0.05,
    f1_round0: 0.8,
    f1_last: 0.8,
  });
  assert.equal(
    feedbackTarget(run([0.8, 0.1], [0.85, 0.04], [0.85, 0.051])).met,
    false,
    'FAR above half in the last round',
  );
  assert.equal(feedbackTarget(run([0.8, 0.1], [0.799, 0.02])).met, false, 'F1 fell');
  assert.throws(() => feedbackTarget(run([0.8, 0.1])), /needs round 0 and at least one feedback round/);
  assert.equal(
    printTarget(met),
    "target (round 2: FAR <= 5.0%, half of round 0's, and F1 >= 0.800): met (FAR 10.0% -> 5.0%, F1 0.800 -> 0.800)\n",
  );
});

test('the seed sweep prints one line per seed with its verdict and counts the seeds that met the target', () => {
  const text = printSeedSweep([
    { seed: 1, result: run([0.8, 0.1], [0.82, 0.04]) },
    { seed: 2, result: run([0.8, 0.1], [0.78, 0.04]) },
  ]);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0] as string, /^seed {2}round 0: FAR \/ F1 +round 1: FAR \/ F1 +target$/);
  assert.match(lines[1] as string, /^ {3}1 +10\.0% \/ 0\.800 +4\.0% \/ 0\.820 +met$/);
  assert.match(lines[2] as string, /^ {3}2 .* not met$/);
  assert.equal(lines[3], 'target met in 1 of 2 seeds');
});
