/**
 * The persistence port of the recommendation use cases (implemented by
 * adapters/pg-recommendation-store.ts). Every method that changes a recommendation also appends
 * the audit row and the change-log row in the same transaction, and returns the Change so the
 * service can push it to live subscribers after commit.
 */
import type { ActionSpec, Approval } from '../domain/recommendation.ts';
import type { Shelf } from '../domain/alarm-discipline.ts';
import type { CriticalAlertCandidate } from '../domain/critical.ts';
import type { Contribution, Severity } from '../domain/detection.ts';
import type { AuditEntry, Change, ListFilter, Recommendation, RecommendationStatus, WriteResult } from './recommendation-service.ts';

/** One item folded into a flood summary instead of reaching operators on its own. */
export interface GroupedItem {
  readonly equipmentId: string;
  readonly issueType: string;
  readonly confidence: number;
  readonly text: string;
  readonly at: string;
}

export interface NewRecommendation {
  readonly id: string;
  readonly dedupKey: string;
  readonly equipmentId: string;
  readonly area: string;
  readonly issueType: string;
  readonly severity: Severity;
  readonly anomalyScore: number;
  readonly confidence: number;
  readonly text: string;
  readonly explanation: readonly Contribution[];
  readonly proposedAction: ActionSpec | null;
  readonly anomalyAtMs: number;
  /** Anomalous event ids behind it; a replay of known ids changes nothing (exactly once). */
  readonly eventIds: readonly string[];
  readonly groupedItems: readonly GroupedItem[];
  readonly nowMs: number;
}

export type UpsertOutcome =
  | { readonly outcome: 'inserted' | 'updated'; readonly recommendation: Recommendation; readonly change: Change }
  | { readonly outcome: 'unchanged' };

export interface AuditRecord {
  readonly action: string;
  readonly actor: string;
  readonly actorRoles: readonly string[];
  readonly note: string | null;
  readonly before: unknown;
  readonly after: unknown;
}

/** What a transition stores; unset fields keep their value. */
export interface TransitionPatch {
  readonly toStatus: RecommendationStatus;
  readonly bumpVersion: boolean;
  readonly approvals?: readonly Approval[];
  readonly deferredUntilMs?: number | null;
  readonly decidedBy?: string;
  readonly operatorNote?: string;
  readonly writeResult?: WriteResult;
  readonly revertResult?: WriteResult;
  readonly text?: string;
  readonly audit: AuditRecord;
}

export interface WriteRecord {
  readonly liveValue: number | null;
  readonly targetValue: number | null;
  readonly readBack: number | null;
  readonly ok: boolean;
  readonly reason: string | null;
}

export interface RecommendationStore {
  upsert(rec: NewRecommendation): Promise<UpsertOutcome>;
  exists(dedupKey: string): Promise<boolean>;
  list(filter: ListFilter): Promise<{ items: Recommendation[]; total: number }>;
  get(id: string): Promise<{ recommendation: Recommendation; history: AuditEntry[] } | undefined>;
  /**
   * Locks the row, calls `plan` with the current state (plan throws SidecarError to refuse, which
   * rolls back) and stores the patch + audit + change. Throws SC_ERR_API_NOT_FOUND for no row.
   */
  transition(id: string, nowMs: number, plan: (current: Recommendation) => TransitionPatch): Promise<{ recommendation: Recommendation; change: Change }>;
  /** Claims the write of `purpose` once; false when already claimed or the status is not `requiredStatus`. */
  claimWrite(id: string, purpose: 'apply' | 'revert', requiredStatus: RecommendationStatus, tagPath: string, actor: string, nowMs: number): Promise<boolean>;
  /** Records the write outcome and applies the transition in one transaction. */
  finishWrite(id: string, purpose: 'apply' | 'revert', record: WriteRecord, nowMs: number, plan: (current: Recommendation) => TransitionPatch): Promise<{ recommendation: Recommendation; change: Change }>;
  /** Deletes an unfinished or failed claim so a refused revert can be retried. */
  releaseClaim(id: string, purpose: 'apply' | 'revert'): Promise<void>;
  /** Claims that never finished (a crash mid-write), oldest first. */
  unfinishedWrites(): Promise<{ id: string; purpose: 'apply' | 'revert' }[]>;
  /** Ids of recommendations whose time-driven transition is due. */
  dueIds(nowMs: number, expireAfterMs: number): Promise<string[]>;
  changesSince(afterSeq: number, limit: number): Promise<Change[]>;
  /** Writes new alerts (idempotent by id) and returns the changes of those actually inserted. */
  appendCriticalAlerts(alerts: readonly CriticalAlertCandidate[]): Promise<Change[]>;
  /** Operator notes of decided recommendations of the same equipment and issue, newest first. */
  similarNotes(equipmentId: string, issueType: string, limit: number): Promise<string[]>;
  addShelf(shelf: Omit<Shelf, 'id'>): Promise<Shelf>;
  /** Ends a shelf early; false when it does not exist or already ended. */
  endShelf(id: number, by: string, nowMs: number): Promise<boolean>;
  activeShelves(nowMs: number): Promise<Shelf[]>;
  setMode(equipmentId: string, mode: string, source: 'tag' | 'api', by: string, nowMs: number): Promise<void>;
  modes(): Promise<Map<string, string>>;
}
