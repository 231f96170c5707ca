/** Row shapes and row → API mapping for pg-recommendation-store.ts (timestamps become ISO strings). */
import type { Shelf } from '../domain/alarm-discipline.ts';
import type { Contribution, Severity } from '../domain/detection.ts';
import type { RejectedSnapshot } from '../domain/reopen.ts';
import type {
  AuditEntry,
  OutcomeActivity,
  OutcomeView,
  ProposedAction,
  Recommendation,
  RecommendationStatus,
  WriteOutcome,
  WriteResult,
} from '../domain/recommendation-view.ts';

/** The `outcome` jsonb column as PgLearningStore.recordOutcome / markReverted write it. */
export interface OutcomeJson {
  outcome: WriteOutcome;
  checkedAt: string;
  writtenAt?: string;
  windowMinutes: number;
  before: OutcomeActivity;
  after: OutcomeActivity;
  clearedAfterMs?: number | null;
  reverted?: boolean;
}

export const REC_COLUMNS = `recommendation_id, equipment_id, area, issue_type, severity, anomaly_score, confidence_score,
  recommendation_text, explanation, proposed_action, status, created_timestamp, anomaly_timestamp, last_seen_timestamp,
  occurrence_count, max_anomaly_score, decided_by, decided_at, deferred_until, operator_notes, write_result, version,
  approvals, revert_result, grouped_items, outcome, reopened_from, reopen_reason`;

export interface RecRow {
  recommendation_id: string;
  equipment_id: string;
  area: string;
  issue_type: string;
  severity: Severity;
  anomaly_score: number;
  confidence_score: number;
  recommendation_text: string;
  explanation: Contribution[];
  proposed_action: ProposedAction | null;
  status: RecommendationStatus;
  created_timestamp: Date;
  anomaly_timestamp: Date;
  last_seen_timestamp: Date;
  occurrence_count: number;
  max_anomaly_score: number;
  decided_by: string | null;
  decided_at: Date | null;
  deferred_until: Date | null;
  operator_notes: string | null;
  write_result: WriteResult | null;
  version: number;
  approvals: { user: string; at: string }[];
  revert_result: WriteResult | null;
  grouped_items: NonNullable<Recommendation['groupedItems']>;
  outcome: OutcomeJson | null;
  reopened_from: string | null;
  reopen_reason: string | null;
}

const activityView = (a: OutcomeActivity): OutcomeActivity => ({
  events: a.events,
  anomalies: a.anomalies,
  meanScore: a.meanScore,
});

/** The API view of the stored outcome (timestamps normalised to ISO strings by Postgres already). */
export function toOutcomeView(o: OutcomeJson | null): OutcomeView | null {
  if (o === null) return null;
  const cleared = o.outcome === 'effective' && typeof o.clearedAfterMs === 'number';
  return {
    outcome: o.outcome,
    checkedAt: new Date(o.checkedAt).toISOString(),
    writtenAt: o.writtenAt === undefined ? null : new Date(o.writtenAt).toISOString(),
    windowMinutes: o.windowMinutes,
    before: activityView(o.before),
    after: activityView(o.after),
    clearedAfterMinutes: cleared ? Math.round(((o.clearedAfterMs as number) / 60_000) * 10) / 10 : null,
    reverted: o.reverted === true,
  };
}

/** A rejected row's decision-time snapshot (pg-recommendation-store.ts `held`). */
export const REJECTED_COLUMNS = `recommendation_id, COALESCE(decided_severity, severity) AS decided_severity,
  COALESCE(decided_max_score, max_anomaly_score) AS decided_max_score, COALESCE(decided_top_tags, top_tags) AS decided_top_tags`;

export interface RejectedRow {
  recommendation_id: string;
  decided_severity: Severity;
  decided_max_score: number;
  decided_top_tags: string[];
}

export function toRejectedSnapshot(r: RejectedRow): RejectedSnapshot {
  return {
    id: r.recommendation_id,
    severity: r.decided_severity,
    maxScore: r.decided_max_score,
    topTags: r.decided_top_tags,
  };
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export function toRecommendation(r: RecRow): Recommendation {
  return {
    id: r.recommendation_id,
    equipmentId: r.equipment_id,
    area: r.area,
    issueType: r.issue_type,
    severity: r.severity,
    anomalyScore: r.anomaly_score,
    confidence: r.confidence_score,
    text: r.recommendation_text,
    explanation: r.explanation,
    proposedAction: r.proposed_action,
    status: r.status,
    createdAt: r.created_timestamp.toISOString(),
    anomalyAt: r.anomaly_timestamp.toISOString(),
    lastSeenAt: r.last_seen_timestamp.toISOString(),
    occurrenceCount: r.occurrence_count,
    maxAnomalyScore: r.max_anomaly_score,
    decidedBy: r.decided_by,
    decidedAt: iso(r.decided_at),
    deferredUntil: iso(r.deferred_until),
    operatorNotes: r.operator_notes,
    writeResult: r.write_result,
    version: r.version,
    approvals: r.approvals,
    revertResult: r.revert_result,
    groupedItems: r.grouped_items,
    outcome: toOutcomeView(r.outcome),
    reopenedFrom: r.reopened_from,
    reopenReason: r.reopen_reason,
  };
}

export const AUDIT_COLUMNS =
  'audit_id, action, actor, from_status, to_status, before_value, after_value, note, at';

export interface AuditRow {
  audit_id: string;
  action: string;
  actor: string;
  from_status: string | null;
  to_status: string | null;
  before_value: unknown;
  after_value: unknown;
  note: string | null;
  at: Date;
}

export function toAudit(r: AuditRow): AuditEntry {
  return {
    auditId: Number(r.audit_id),
    action: r.action,
    actor: r.actor,
    fromStatus: r.from_status,
    toStatus: r.to_status,
    before: r.before_value,
    after: r.after_value,
    note: r.note,
    at: r.at.toISOString(),
  };
}

export interface ShelfRow {
  shelf_id: string;
  equipment_id: string;
  issue_type: string;
  reason: string;
  shelved_by: string;
  shelved_at: Date;
  until: Date;
}

export function toShelf(r: ShelfRow): Shelf {
  return {
    id: Number(r.shelf_id),
    equipmentId: r.equipment_id,
    issueType: r.issue_type,
    reason: r.reason,
    by: r.shelved_by,
    fromMs: r.shelved_at.getTime(),
    untilMs: r.until.getTime(),
  };
}
