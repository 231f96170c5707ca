/**
 * The promotion gate. Candidate and current model score the same held-back data (operator
 * decisions not used for training, and recent normal rows); the candidate is promoted only if it
 * is not worse: F1 at least current F1 − f1Tolerance AND false-alarm rate at most current FAR +
 * farTolerance, on at least minRows rows with both classes present. The numbers are recorded.
 *
 * The retrain gate judges decisions the way the operator met them (`decisionFigures`): an approved
 * recommendation counts as caught when the model would raise it again from the events the
 * operator saw before approving (flagged ticks for the alarm's on-delay in a row, or all of them
 * when fewer were seen), a rejected one as raised again by the same rule; F1 and MAR are over
 * decisions, FAR over rows (rejected events + normal rows). Row-level F1 on the approvals' events
 * (`figuresFrom`) is biased to the serving model: it raised those events, so it flags them all by
 * construction and any candidate can only tie or lose, even one that raises every confirmed fault
 * a tick later and stops the rejected ones.
 */

export interface Counts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface GateFigures {
  readonly rows: number;
  /** Positive rows (`figuresFrom`) or held-back approvals (`decisionFigures`). */
  readonly positives: number;
  /** Negative rows (labelled normal or rejected). */
  readonly negatives: number;
  readonly f1: number;
  readonly far: number;
  readonly mar: number;
}

export function figuresFrom(labels: ArrayLike<number>, flagged: ArrayLike<boolean>): GateFigures {
  const c: Counts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const pos = (labels[i] as number) > 0;
    if (flagged[i]) {
      if (pos) c.tp++;
      else c.fp++;
    } else if (pos) c.fn++;
    else c.tn++;
  }
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  return {
    rows: labels.length,
    positives: c.tp + c.fn,
    negatives: c.fp + c.tn,
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    far: ratio(c.fp, c.fp + c.tn),
    mar: ratio(c.fn, c.fn + c.tp),
  };
}

/** One held-back decision for the gate: its answer and whether the model flags each seen event. */
export interface FlaggedDecision {
  readonly label: 0 | 1;
  readonly flagged: readonly boolean[];
  /** Each event's tick (source timestamp); events without ticks count as one tick each. */
  readonly ticks?: readonly number[];
}

/**
 * Whether the flags would raise the alarm again: some run of `onDelayTicks` consecutive ticks with
 * a flagged event (a tick is flagged when any of its events is, as the alarm gate takes the tick's
 * highest score), or every tick flagged when fewer were seen.
 */
export function wouldRaise(d: FlaggedDecision, onDelayTicks: number): boolean {
  const byTick = new Map<number, boolean>();
  d.flagged.forEach((f, i) => {
    const t = d.ticks?.[i] ?? i;
    byTick.set(t, (byTick.get(t) ?? false) || f);
  });
  const ticks = [...byTick.entries()].sort((a, b) => a[0] - b[0]);
  const need = Math.min(Math.max(1, onDelayTicks), ticks.length);
  let run = 0;
  for (const [, f] of ticks) {
    run = f ? run + 1 : 0;
    if (need > 0 && run >= need) return true;
  }
  return false;
}

/**
 * Decision-level figures: approvals caught and rejections raised again (`wouldRaise` with the
 * alarm's on-delay; 1 = any flagged event) give F1 and MAR over decisions; FAR is over rows, the
 * rejected decisions' events plus `normalFlagged` (held-back normal rows). `positives` = held-back
 * approvals.
 */
export function decisionFigures(
  decisions: readonly FlaggedDecision[],
  normalFlagged: readonly boolean[],
  onDelayTicks = 1,
): GateFigures {
  let caught = 0;
  let missed = 0;
  let raisedAgain = 0;
  let negRows = normalFlagged.length;
  let negFlagged = normalFlagged.filter(Boolean).length;
  let rows = normalFlagged.length;
  for (const d of decisions) {
    rows += d.flagged.length;
    const raised = wouldRaise(d, onDelayTicks);
    if (d.label === 1) {
      if (raised) caught++;
      else missed++;
    } else {
      if (raised) raisedAgain++;
      negRows += d.flagged.length;
      negFlagged += d.flagged.filter(Boolean).length;
    }
  }
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  return {
    rows,
    positives: caught + missed,
    negatives: negRows,
    f1: ratio(2 * caught, 2 * caught + raisedAgain + missed),
    far: ratio(negFlagged, negRows),
    mar: ratio(missed, caught + missed),
  };
}

export interface GateOptions {
  readonly f1Tolerance: number;
  readonly farTolerance: number;
  readonly minRows: number;
}

export interface GateResult {
  readonly passed: boolean;
  readonly reason: string;
  readonly current: GateFigures;
  readonly candidate: GateFigures;
  readonly options: GateOptions;
}

export function promotionGate(current: GateFigures, candidate: GateFigures, o: GateOptions): GateResult {
  const base = { current, candidate, options: o };
  const negatives = candidate.negatives;
  if (candidate.rows < o.minRows || candidate.positives === 0 || negatives === 0) {
    return {
      ...base,
      passed: false,
      reason: `held-back set too small: ${candidate.rows} rows (${candidate.positives} positive, ${negatives} negative), need ${o.minRows} with both classes`,
    };
  }
  const f1Ok = candidate.f1 >= current.f1 - o.f1Tolerance;
  const farOk = candidate.far <= current.far + o.farTolerance;
  const fmt = (v: number): string => v.toFixed(3);
  const detail = `F1 ${fmt(candidate.f1)} vs ${fmt(current.f1)} (tolerance ${o.f1Tolerance}), FAR ${fmt(candidate.far)} vs ${fmt(current.far)} (tolerance ${o.farTolerance})`;
  if (f1Ok && farOk) return { ...base, passed: true, reason: `not worse: ${detail}` };
  return { ...base, passed: false, reason: `worse ${f1Ok ? 'FAR' : farOk ? 'F1' : 'F1 and FAR'}: ${detail}` };
}
