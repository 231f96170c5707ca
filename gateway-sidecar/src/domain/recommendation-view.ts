/**
 * The recommendation data types shared by the use cases, the ports and the adapters (the HTTP API,
 * the store, the SSE stream). Pure types; app/recommendation-service.ts re-exports them, so callers
 * keep importing from there.
 */
import type { Contribution, Severity } from './detection.ts';

export type Role = 'viewer' | 'operator' | 'engineer';
export type RecommendationStatus =
  'pending' | 'approved' | 'deferred' | 'rejected' | 'executed' | 'failed' | 'expired';
export type Decision = 'approve' | 'defer' | 'reject';

/** Who is acting: from a bearer token or a gateway-signed identity. */
export interface Actor {
  readonly user: string;
  readonly roles: readonly Role[];
  readonly via: 'token' | 'gateway';
}

/** The setpoint write a recommendation proposes (current → new, within configured limits). */
export interface ProposedAction {
  readonly tagPath: string;
  readonly setpointName: string;
  readonly unit: string;
  readonly currentValue: number | null;
  readonly newValue: number;
  readonly min: number;
  readonly max: number;
  readonly maxStep: number;
  /** Two-person rule: true when the change exceeds the configured impact. */
  readonly requiresSecondApprover: boolean;
}

export interface WriteResult {
  readonly ok: boolean;
  readonly readBack: number | null;
  readonly previousValue: number | null;
  readonly reason: string | null;
  readonly at: string;
}

/** A recommendation as the API returns it (timestamps are ISO 8601 strings). */
export interface Recommendation {
  readonly id: string;
  readonly equipmentId: string;
  readonly area: string;
  readonly issueType: string;
  readonly severity: Severity;
  readonly anomalyScore: number;
  readonly confidence: number;
  readonly text: string;
  readonly explanation: readonly Contribution[];
  readonly proposedAction: ProposedAction | null;
  readonly status: RecommendationStatus;
  readonly createdAt: string;
  readonly anomalyAt: string;
  readonly lastSeenAt: string;
  readonly occurrenceCount: number;
  readonly maxAnomalyScore: number;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly deferredUntil: string | null;
  readonly operatorNotes: string | null;
  readonly writeResult: WriteResult | null;
  /** Optimistic-concurrency version; a decision must name the version it was made on. */
  readonly version: number;
  /** Approvals recorded so far (two-person rule: a large change needs two different users). */
  readonly approvals?: readonly { readonly user: string; readonly at: string }[];
  /** Set once an engineer reverted the executed write. */
  readonly revertResult?: WriteResult | null;
  /** Flood summaries: the recommendations grouped into this one instead of reaching operators. */
  readonly groupedItems?: readonly {
    readonly equipmentId: string;
    readonly issueType: string;
    readonly confidence: number;
    readonly text: string;
    readonly at: string;
  }[];
  /** What the learning loop saw after the executed write, once its outcome window has passed. */
  readonly outcome?: OutcomeView | null;
  /**
   * Earlier decisions on the same pattern (equipment × issue type), this recommendation excluded;
   * zeros and nulls when there are none. Absent only on change-log entries written before it existed.
   */
  readonly patternHistory?: PatternHistory;
  /**
   * Id of the rejected recommendation of the same pattern and window this one was raised past,
   * because its anomalies looked different from what the operator rejected; null otherwise.
   * Absent only on change-log entries written before it existed.
   */
  readonly reopenedFrom?: string | null;
  /** Why it was raised past the rejection, e.g. `Reopened: HIGH (rejected at MEDIUM)`; null otherwise. */
  readonly reopenReason?: string | null;
}

/**
 * The decided recommendations of a pattern other than the one that carries it, over all stored
 * history (the statuses and period the learning loop's pattern confidence counts): approved,
 * executed and failed count as approved; deferred, pending and expired are not counted.
 */
export interface PatternHistory {
  readonly approved: number;
  readonly rejected: number;
  /** The note of the newest rejection (a rejection always has one); null when none was rejected. */
  readonly lastRejectionNote: string | null;
  /** When the newest counted decision was made (ISO 8601); null when there is none. */
  readonly lastDecidedAt: string | null;
}

/** Outcome of an executed write (docs/learning.md "Outcome check"). */
export type WriteOutcome = 'effective' | 'not_effective' | 'worse';

/** Scored-event activity of the equipment in one outcome window. */
export interface OutcomeActivity {
  readonly events: number;
  readonly anomalies: number;
  readonly meanScore: number;
}

export interface OutcomeView {
  readonly outcome: WriteOutcome;
  /** When the outcome was recorded (ISO 8601). */
  readonly checkedAt: string;
  /** When the write finished (ISO 8601); null on rows recorded before this field existed. */
  readonly writtenAt: string | null;
  readonly windowMinutes: number;
  /** The window before the write and the equally long window after it. */
  readonly before: OutcomeActivity;
  readonly after: OutcomeActivity;
  /**
   * Effective only: minutes from the write to the last anomalous event of the outcome window
   * (0: none after the write); null otherwise or when unknown.
   */
  readonly clearedAfterMinutes: number | null;
  /** The learning loop reverted the write automatically (learning.autoRevertWorse). */
  readonly reverted: boolean;
}

export interface AuditEntry {
  readonly auditId: number;
  readonly action: string;
  readonly actor: string;
  readonly fromStatus: string | null;
  readonly toStatus: string | null;
  readonly before: unknown;
  readonly after: unknown;
  readonly note: string | null;
  readonly at: string;
}

export interface DecisionRequest {
  readonly decision: Decision;
  readonly note?: string;
  /** ISO 8601; required for 'defer'. */
  readonly deferUntil?: string;
  readonly expectedVersion: number;
}

export interface ListFilter {
  readonly status?: readonly RecommendationStatus[];
  readonly equipmentId?: string;
  readonly severity?: readonly Severity[];
  readonly limit: number;
  readonly offset: number;
}

/** One entry of the change stream; `seq` is durable and increasing (SSE `id:`). */
export interface Change {
  readonly seq: number;
  readonly type: 'recommendation' | 'critical_alert';
  readonly recommendation?: Recommendation;
  readonly alert?: CriticalAlertView;
}

/** A critical alert as the API, the SSE stream and the notifier see it (`at` is ISO 8601). */
export interface CriticalAlertView {
  readonly id: string;
  readonly equipmentId: string;
  readonly sensorType: string;
  readonly tagPath: string;
  readonly value: number;
  readonly threshold: number;
  readonly level: string;
  readonly message: string;
  readonly at: string;
}

/** A shelf: an equipment/issue pattern silenced for a bounded time (ISA-18.2 shelving). */
export interface ShelfView {
  readonly id: number;
  readonly equipmentId: string;
  /** An issue type, or '*' for every issue of the equipment. */
  readonly issueType: string;
  readonly reason: string;
  readonly by: string;
  readonly from: string;
  readonly until: string;
}

/** ISA-18.2 KPIs of the recommendation stream (for /metrics and pipeline_metrics.extra). */
export interface AlarmKpiView {
  readonly recommendationsPerOperatorHour: number;
  readonly floodWindowPct: number;
  readonly chatteringPatterns: readonly string[];
  readonly suppressed: Readonly<Record<'mode' | 'shelved' | 'below_confidence', number>>;
  readonly grouped: number;
  /** Recommendations raised past a rejection since start, by first reason (domain/reopen.ts). */
  readonly reopened?: Readonly<Record<'severity' | 'top_tag' | 'score', number>>;
}
