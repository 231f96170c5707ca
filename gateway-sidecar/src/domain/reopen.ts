/**
 * Reopening (docs/recommendations.md "Rejected, then a different anomaly"): a rejection holds back
 * the pattern the operator saw, not every later anomaly of the same equipment and issue. New
 * anomalies for a rejected row's key are judged against what the row showed at the decision
 * (never its current values, which later events keep changing). They look different, and raise a
 * new recommendation, when at least one of these holds:
 *
 *   severity  their worst severity is worse than the row's worst severity at the decision;
 *   top_tag   their top contributing tag (first explanation contribution) led none of the
 *             anomaly batches the operator had seen (unknown when none was recorded: no reopen);
 *   score     their anomaly score is more than `scoreMargin` above the row's max score at the decision.
 *
 * Pure and deterministic: the same snapshot and batch always give the same answer, so a replay
 * after a restart follows the same path and lands on the same row.
 */
import { SEVERITIES, type Severity } from './detection.ts';

/** What a rejected row showed when the operator decided it (plus its id, to link a reopening). */
export interface RejectedSnapshot {
  readonly id: string;
  readonly severity: Severity;
  readonly maxScore: number;
  /** Top contributing tag of every batch recorded on the row before the decision. */
  readonly topTags: readonly string[];
}

/** What the engine knows about the new anomaly batch. */
export interface BatchLook {
  readonly severity: Severity;
  readonly score: number;
  /** First explanation contribution's tagPath; undefined when the batch has no explanation. */
  readonly topTag: string | undefined;
}

export type ReopenReason = 'severity' | 'top_tag' | 'score';
export const REOPEN_REASONS: readonly ReopenReason[] = ['severity', 'top_tag', 'score'];

export type ReopenVerdict =
  | { readonly reopen: false }
  | {
      readonly reopen: true;
      /** Every condition that holds, in the order above; the first is the one counted in metrics. */
      readonly reasons: readonly ReopenReason[];
      /** For the card, e.g. `Reopened: HIGH (rejected at MEDIUM)`. */
      readonly text: string;
    };

/** The look of anomalous readings, as the playbook sees a batch (worst severity, max score, top weight). */
export function lookOf(
  readings: readonly {
    readonly severity: Severity;
    readonly score: number;
    readonly explanation: readonly { readonly tagPath: string; readonly weight: number }[];
  }[],
): BatchLook {
  let severity: Severity = 'low';
  let score = 0;
  let top: { readonly tagPath: string; readonly weight: number } | undefined;
  for (const r of readings) {
    if (SEVERITIES.indexOf(r.severity) > SEVERITIES.indexOf(severity)) severity = r.severity;
    score = Math.max(score, r.score);
    // The first of the heaviest wins, as the playbook's stable sort by weight.
    for (const c of r.explanation) if (top === undefined || c.weight > top.weight) top = c;
  }
  return { severity, score, topTag: top?.tagPath };
}

/** Last path segment of a tag: `[default]Reactors/R01/CoolantFlow` → `CoolantFlow`. */
export function tagLabel(tagPath: string): string {
  const tail = tagPath.slice(tagPath.lastIndexOf(']') + 1);
  const parts = tail.split('/').filter((p) => p !== '');
  return parts[parts.length - 1] ?? tagPath;
}

const fmtScore = (n: number): string => (Math.round(n * 100) / 100).toFixed(2);

/** Throws a RangeError naming the value when the margin is not a number in [0, 1]. */
export function checkScoreMargin(margin: number): number {
  if (!(Number.isFinite(margin) && margin >= 0 && margin <= 1))
    throw new RangeError(`reopen score margin must be a number in [0, 1], got ${String(margin)}`);
  return margin;
}

/** Judges a new batch against a rejected row's decision-time snapshot. */
export function judgeReopen(
  rejected: RejectedSnapshot,
  batch: BatchLook,
  scoreMargin: number,
): ReopenVerdict {
  const reasons: ReopenReason[] = [];
  const parts: string[] = [];
  if (SEVERITIES.indexOf(batch.severity) > SEVERITIES.indexOf(rejected.severity)) {
    reasons.push('severity');
    parts.push(`${batch.severity.toUpperCase()} (rejected at ${rejected.severity.toUpperCase()})`);
  }
  if (batch.topTag !== undefined && rejected.topTags.length > 0 && !rejected.topTags.includes(batch.topTag)) {
    reasons.push('top_tag');
    const before = [...new Set(rejected.topTags.map(tagLabel))].join(', ');
    parts.push(`${tagLabel(batch.topTag)} now leads (the rejected alarm was led by ${before})`);
  }
  if (batch.score > rejected.maxScore + scoreMargin) {
    reasons.push('score');
    parts.push(`score ${fmtScore(batch.score)} (rejected at ${fmtScore(rejected.maxScore)})`);
  }
  if (reasons.length === 0) return { reopen: false };
  return { reopen: true, reasons, text: `Reopened: ${parts.join('; ')}` };
}
