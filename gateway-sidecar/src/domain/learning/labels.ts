/**
 * Operator decisions and write outcomes as training labels. A label says whether the anomaly
 * events behind a recommendation were a real condition (1) or a false alarm (0); a decision that
 * says nothing about that (deferred, pending, expired) gives no label. The outcome of an executed
 * write labels the recommended ACTION (did it help), which feeds the pattern's confidence.
 */

export type RecommendationOutcome = 'effective' | 'not_effective' | 'worse';

export interface DecisionFacts {
  readonly recommendationId: string;
  readonly status: string;
  readonly operatorNote: string | null;
  readonly outcome: RecommendationOutcome | null;
}

export interface DecisionLabel {
  readonly recommendationId: string;
  /** 1 = confirmed anomaly, 0 = false alarm. */
  readonly label: 0 | 1;
  readonly source: 'approved' | 'rejected' | 'executed';
  readonly note: string | null;
}

/** Statuses after an approval: the operator confirmed the condition whatever the write did. */
const CONFIRMED = new Set(['approved', 'executed', 'failed']);

/** approved/executed/failed → 1, rejected → 0 (with the note), anything else → undefined. */
export function labelOf(d: DecisionFacts): DecisionLabel | undefined {
  if (d.status === 'rejected')
    return { recommendationId: d.recommendationId, label: 0, source: 'rejected', note: d.operatorNote };
  if (!CONFIRMED.has(d.status)) return undefined;
  return {
    recommendationId: d.recommendationId,
    label: 1,
    source: d.status === 'executed' ? 'executed' : 'approved',
    note: d.operatorNote,
  };
}

/** Outcome of an executed action as a usefulness label: effective → 1, not effective / worse → 0. */
export function actionLabelOf(outcome: RecommendationOutcome): 0 | 1 {
  return outcome === 'effective' ? 1 : 0;
}

/** Anomaly activity of one equipment in a window (from the scored events). */
export interface WindowActivity {
  readonly events: number;
  readonly anomalies: number;
  readonly meanScore: number;
  /** Time of the last anomalous event in the window (ms), null when none. */
  readonly lastAnomalyMs?: number | null;
}

export interface OutcomeRule {
  /** After-window anomaly share at most this fraction of the before-window share → effective. */
  readonly clearedRatio: number;
  /** After-window mean score above before × this → worse. */
  readonly worseRatio: number;
}

export const DEFAULT_OUTCOME_RULE: OutcomeRule = { clearedRatio: 0.5, worseRatio: 1.1 };

/**
 * Did the anomaly clear after the write? Compares the outcome window after the write with an
 * equally long window before it. No events after → not effective (nothing shows it cleared).
 */
export function classifyOutcome(
  before: WindowActivity,
  after: WindowActivity,
  rule: OutcomeRule = DEFAULT_OUTCOME_RULE,
): RecommendationOutcome {
  if (after.events === 0) return 'not_effective';
  const shareBefore = before.events === 0 ? 0 : before.anomalies / before.events;
  const shareAfter = after.anomalies / after.events;
  if (after.meanScore > before.meanScore * rule.worseRatio && shareAfter >= shareBefore) return 'worse';
  if (shareAfter <= shareBefore * rule.clearedRatio) return 'effective';
  return 'not_effective';
}

/**
 * Effective only: how long after the write the last anomalous event of the after-window came
 * (0 when there was none), or null.
 */
export function clearedAfterMs(
  outcome: RecommendationOutcome,
  writtenAtMs: number,
  after: WindowActivity,
): number | null {
  if (outcome !== 'effective') return null;
  const last = after.lastAnomalyMs;
  return last === undefined || last === null ? 0 : Math.max(0, last - writtenAtMs);
}
