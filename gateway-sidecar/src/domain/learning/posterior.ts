/**
 * Per-pattern (equipment × issue type) confidence from the approval history: a Beta posterior on
 * "an operator finds this pattern worth acting on". Approvals and effective outcomes are
 * successes; rejections and outcomes that made things worse are failures. The playbook's own
 * confidence is scaled by posterior mean / prior mean, so a pattern without history keeps the
 * playbook value, one that keeps being rejected sinks below minConfidence (and stops reaching
 * operators), one that keeps being approved rises (capped at 1).
 */

export interface BetaPrior {
  readonly alpha: number;
  readonly beta: number;
}

export interface PatternCounts {
  readonly approved: number;
  readonly rejected: number;
  readonly effective: number;
  readonly worse: number;
}

export const NO_HISTORY: PatternCounts = { approved: 0, rejected: 0, effective: 0, worse: 0 };

export interface Posterior {
  readonly alpha: number;
  readonly beta: number;
  readonly mean: number;
}

export function patternKey(equipmentId: string, issueType: string): string {
  return `${equipmentId}|${issueType}`;
}

export function posteriorOf(prior: BetaPrior, c: PatternCounts): Posterior {
  if (!(prior.alpha > 0 && prior.beta > 0))
    throw new RangeError(`Beta prior needs alpha > 0 and beta > 0, got ${prior.alpha}, ${prior.beta}`);
  const alpha = prior.alpha + c.approved + c.effective;
  const beta = prior.beta + c.rejected + c.worse;
  return { alpha, beta, mean: alpha / (alpha + beta) };
}

/** The playbook confidence adjusted by the pattern's history, in [0, 1]. */
export function adjustedConfidence(base: number, prior: BetaPrior, c: PatternCounts): number {
  const priorMean = prior.alpha / (prior.alpha + prior.beta);
  const v = base * (posteriorOf(prior, c).mean / priorMean);
  return Math.min(1, Math.max(0, v));
}

export interface ThresholdBounds {
  readonly min: number;
  readonly max: number;
  /** Largest change per adaptation. */
  readonly step: number;
  /** Acceptable share of rejected decisions; above it the line rises, below half of it it falls. */
  readonly targetRejectRate: number;
}

/**
 * Adapts the anomaly line on the ensemble score from the decisions since the last adaptation:
 * too many false alarms → raise, few → lower a little (to catch more), always inside the bounds.
 * Fewer than `minDecisions` decisions → unchanged (too little evidence).
 */
export function adaptThreshold(
  current: number,
  approved: number,
  rejected: number,
  b: ThresholdBounds,
  minDecisions = 10,
): number {
  const n = approved + rejected;
  let next = current;
  if (n >= minDecisions) {
    const rejectRate = rejected / n;
    if (rejectRate > b.targetRejectRate)
      next =
        current +
        b.step * Math.min(1, (rejectRate - b.targetRejectRate) / Math.max(1e-9, 1 - b.targetRejectRate));
    else if (rejectRate < b.targetRejectRate / 2) next = current - b.step / 2;
  }
  return Math.min(b.max, Math.max(b.min, next));
}
