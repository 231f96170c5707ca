/**
 * Output of the feedback backtest: the per-round table (pooled F1 / FAR / MAR, confusion counts,
 * recommendations raised and answers given), each round's retraining per fold, the per-file
 * figures per round, and the `--summary` JSON (DESIGN.md: the plain backtest's keys for round 0
 * plus a `rounds` array of the same per round).
 */
import { figuresOf } from '../ml/metrics.ts';
import type { FeedbackResult, RoundFigures } from './backtest-feedback.ts';

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

export function printFeedback(r: FeedbackResult): string {
  const out: string[] = [];
  out.push(
    'round   rows   F1     FAR     MAR     TP    FP    TN    FN  episodes/h  raised  answers (approved/rejected)  FP rows in approved/rejected recs',
  );
  for (const x of r.rounds) {
    out.push(
      `${String(x.round).padStart(5)}  ${String(x.rows).padStart(5)}  ${x.f1.toFixed(3)}  ${pct(x.far).padStart(6)}  ${pct(x.mar).padStart(6)}  ${String(x.tp).padStart(4)}  ${String(x.fp).padStart(4)}  ${String(x.tn).padStart(4)}  ${String(x.fn).padStart(4)}  ${x.episodes_per_hour.toFixed(2).padStart(10)}  ${String(x.raised).padStart(6)}  ${String(x.answers).padStart(7)} (${x.approved}/${x.rejected})  ${x.fp_in_approved}/${x.fp_in_rejected}`,
    );
  }
  out.push('');
  out.push("retraining before each round (per fold: answers of the other folds' files learnt from):");
  for (const x of r.rounds) {
    for (const t of x.retrains) {
      out.push(
        `  round ${x.round} fold ${t.fold}: ${t.answers_used} answers, ${t.labelled_rows} labelled rows (+${t.holdout_rows} held back), ${t.normal_rows} normal rows → ${t.version} ${t.promoted ? 'promoted' : 'NOT promoted'}, line ${t.threshold.toFixed(3)}; ${t.gate}`,
      );
    }
  }
  out.push('');
  const first = r.perFile[0] ?? [];
  const pad = Math.max(8, ...first.map((f) => f.file.length));
  out.push(
    `${'file'.padEnd(pad)} fold  ${r.rounds.map((x) => `round ${x.round}: F1 / FAR / MAR`.padEnd(26)).join('')}`,
  );
  first.forEach((f, i) => {
    const cells = r.perFile.map((round) => {
      const fig = figuresOf((round[i] ?? f).c);
      return `${fig.f1.toFixed(3)} / ${pct(fig.far).padStart(6)} / ${pct(fig.mar).padStart(6)}`.padEnd(26);
    });
    out.push(`${f.file.padEnd(pad)} ${String(f.fold).padStart(4)}  ${cells.join('')}`);
  });
  return `${out.join('\n')}\n`;
}

function roundJson(x: RoundFigures): Record<string, unknown> {
  return {
    round: x.round,
    files: x.files,
    rows: x.rows,
    f1: x.f1,
    far: x.far,
    mar: x.mar,
    episodes_per_hour: x.episodes_per_hour,
    tp: x.tp,
    fp: x.fp,
    tn: x.tn,
    fn: x.fn,
    raised: x.raised,
    answers: x.answers,
    approved: x.approved,
    rejected: x.rejected,
    fp_in_approved: x.fp_in_approved,
    fp_in_rejected: x.fp_in_rejected,
    retrains: x.retrains,
  };
}

export function feedbackSummary(
  r: FeedbackResult,
  protocol: { folds: number; dedupWindowMinutes: number; decideAfterMs?: number; seed?: number },
): Record<string, unknown> {
  const r0 = r.rounds[0];
  if (r0 === undefined) throw new Error('feedback backtest produced no rounds');
  return {
    files: r0.files,
    rows: r0.rows,
    f1: r0.f1,
    far: r0.far,
    mar: r0.mar,
    episodes_per_hour: r0.episodes_per_hour,
    rounds: r.rounds.map(roundJson),
    target: feedbackTarget(r),
    protocol: {
      kind:
        protocol.folds === 1
          ? 'in-sample (leaks: models learn from the files they score)'
          : 'cross-fitting by files',
      folds: protocol.folds,
      dedup_window_minutes: protocol.dedupWindowMinutes,
      // null: the operator answers in hindsight, after the round's events of the window.
      decide_after_seconds: protocol.decideAfterMs === undefined ? null : protocol.decideAfterMs / 1000,
      seed: protocol.seed ?? null,
    },
  };
}

/**
 * The issue's target on one run: after the feedback rounds (the last round), the false-alarm rate
 * is at most half of round 0's and F1 is not below round 0's.
 */
export interface FeedbackTarget {
  readonly met: boolean;
  readonly last_round: number;
  readonly far_round0: number;
  readonly far_last: number;
  /** Half of round 0's false-alarm rate: the most the last round may have. */
  readonly far_limit: number;
  readonly f1_round0: number;
  readonly f1_last: number;
}

export function feedbackTarget(r: FeedbackResult): FeedbackTarget {
  const r0 = r.rounds[0];
  const last = r.rounds[r.rounds.length - 1];
  if (r0 === undefined || last === undefined || last === r0)
    throw new Error('the feedback target needs round 0 and at least one feedback round');
  const farLimit = r0.far / 2;
  return {
    met: last.far <= farLimit && last.f1 >= r0.f1,
    last_round: last.round,
    far_round0: r0.far,
    far_last: last.far,
    far_limit: farLimit,
    f1_round0: r0.f1,
    f1_last: last.f1,
  };
}

export function printTarget(t: FeedbackTarget): string {
  return `target (round ${t.last_round}: FAR <= ${pct(t.far_limit)}, half of round 0's, and F1 >= ${t.f1_round0.toFixed(3)}): ${t.met ? 'met' : 'NOT met'} (FAR ${pct(t.far_round0)} -> ${pct(t.far_last)}, F1 ${t.f1_round0.toFixed(3)} -> ${t.f1_last.toFixed(3)})\n`;
}

/** `--seeds`: one line per seed, FAR / F1 per round and the target's verdict, then how many met it. */
export function printSeedSweep(runs: readonly { seed: number; result: FeedbackResult }[]): string {
  const first = runs[0]?.result.rounds ?? [];
  const out = [`seed  ${first.map((x) => `round ${x.round}: FAR / F1`.padEnd(22)).join('')}target`];
  let met = 0;
  for (const { seed, result } of runs) {
    const t = feedbackTarget(result);
    if (t.met) met++;
    const cells = result.rounds.map((x) => `${pct(x.far).padStart(6)} / ${x.f1.toFixed(3)}`.padEnd(22));
    out.push(`${String(seed).padStart(4)}  ${cells.join('')}${t.met ? 'met' : 'not met'}`);
  }
  out.push(`target met in ${met} of ${runs.length} seeds`);
  return `${out.join('\n')}\n`;
}
