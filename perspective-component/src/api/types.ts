/**
 * Mirror of the sidecar API contract (gateway-sidecar/src/app/recommendation-service.ts and
 * domain/detection.ts). Copied, not imported: the bundle must not pull sidecar code in at runtime.
 * test/api-types.test.ts checks at type level that both sides stay assignable to each other.
 */
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export type RecommendationStatus =
  'pending' | 'approved' | 'deferred' | 'rejected' | 'executed' | 'failed' | 'expired';
export const STATUSES: readonly RecommendationStatus[] = [
  'pending',
  'approved',
  'deferred',
  'rejected',
  'executed',
  'failed',
  'expired',
];
export type Decision = 'approve' | 'defer' | 'reject';
export const DECISIONS: readonly Decision[] = ['approve', 'defer', 'reject'];

export interface Contribution {
  readonly feature: string;
  readonly sensorType: string;
  readonly tagPath: string;
  readonly value: number;
  readonly weight: number;
}

export interface ProposedAction {
  readonly tagPath: string;
  readonly setpointName: string;
  readonly unit: string;
  readonly currentValue: number | null;
  readonly newValue: number;
  readonly min: number;
  readonly max: number;
  readonly maxStep: number;
  readonly requiresSecondApprover: boolean;
}

export interface WriteResult {
  readonly ok: boolean;
  readonly readBack: number | null;
  readonly previousValue: number | null;
  readonly reason: string | null;
  readonly at: string;
}

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
  /** Earlier decisions on the same equipment × issue type, this one excluded (absent: old sidecar). */
  readonly patternHistory?: PatternHistory;
  /** The rejected recommendation this one was raised past (a different-looking later anomaly). */
  readonly reopenedFrom?: string | null;
  /** Why, e.g. `Reopened: HIGH (rejected at MEDIUM)`; null when not a reopening. */
  readonly reopenReason?: string | null;
}

/** Decided recommendations of the pattern other than this one (approved counts executed and failed). */
export interface PatternHistory {
  readonly approved: number;
  readonly rejected: number;
  readonly lastRejectionNote: string | null;
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
  readonly checkedAt: string;
  readonly writtenAt: string | null;
  readonly windowMinutes: number;
  readonly before: OutcomeActivity;
  readonly after: OutcomeActivity;
  /** Effective only: minutes from the write to the last anomalous event after it (0: none). */
  readonly clearedAfterMinutes: number | null;
  /** The learning loop reverted the write automatically. */
  readonly reverted: boolean;
}

/** GET /api/me: who the API thinks we are. */
export interface Me {
  readonly user: string;
  readonly roles: readonly string[];
  readonly via: string;
}

export interface DecisionRequest {
  readonly decision: Decision;
  readonly note?: string;
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

export interface CriticalAlert {
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

export interface Change {
  readonly seq: number;
  readonly type: 'recommendation' | 'critical_alert';
  readonly recommendation?: Recommendation;
  readonly alert?: CriticalAlert;
}

/** Error body of every non-2xx API answer (docs/errors.md). */
export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
}
