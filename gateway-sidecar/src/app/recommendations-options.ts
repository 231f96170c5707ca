/**
 * The options of the recommendation service (app/recommendations.ts) and how they are taken from
 * the validated config; main.ts and the scale-out worker pass the result to createRecommendations.
 */
import type { Config } from '../config.ts';

export interface RecommendationsOptions {
  readonly minConfidence: number;
  readonly dedupWindowMinutes: number;
  readonly expireAfterMinutes: number;
  readonly maxRecommendationsPer10Min: number;
  readonly shelveMaxHours: number;
  readonly maxDeferHours: number;
  readonly chatterCount: number;
  readonly chatterWindowMinutes: number;
  /** Change-log rows older than this are pruned by tick (at most once an hour). */
  readonly changeLogRetentionHours: number;
  /** A batch scoring more than this above a rejected row's max score at the decision reopens it. */
  readonly reopenScoreMargin: number;
  readonly requireReadBack: boolean;
  readonly readBackTolerance: number;
}

/** The options slice from the validated config (main.ts passes the result to createRecommendations). */
export function recommendationsOptionsFrom(
  config: Pick<Config, 'minConfidence' | 'dedupWindowMinutes' | 'recommendations' | 'writes'>,
): RecommendationsOptions {
  const r = config.recommendations;
  return {
    minConfidence: config.minConfidence,
    dedupWindowMinutes: config.dedupWindowMinutes,
    expireAfterMinutes: r.expireAfterMinutes,
    maxRecommendationsPer10Min: r.maxRecommendationsPer10Min,
    shelveMaxHours: r.shelveMaxHours,
    maxDeferHours: r.maxDeferHours,
    chatterCount: r.chatterCount,
    chatterWindowMinutes: r.chatterWindowMinutes,
    changeLogRetentionHours: r.changeLogRetentionHours,
    reopenScoreMargin: r.reopenScoreMargin,
    requireReadBack: config.writes.requireReadBack,
    readBackTolerance: config.writes.readBackTolerance,
  };
}
