/**
 * The contract between the recommendation use cases (app/) and their callers: the HTTP API, the
 * SSE stream, the Java delegate (through the API) and the preview host. The implementation lives
 * beside this file; the HTTP adapter depends only on these types.
 */
import type {
  Actor,
  AlarmKpiView,
  AuditEntry,
  Change,
  DecisionRequest,
  ListFilter,
  Recommendation,
  ShelfView,
} from '../domain/recommendation-view.ts';

export type {
  Role,
  RecommendationStatus,
  Decision,
  Actor,
  ProposedAction,
  WriteResult,
  Recommendation,
  AuditEntry,
  DecisionRequest,
  ListFilter,
  Change,
  ShelfView,
  AlarmKpiView,
} from '../domain/recommendation-view.ts';

export interface RecommendationService {
  list(filter: ListFilter): Promise<{ items: Recommendation[]; total: number }>;
  /** undefined when there is no such recommendation. */
  get(id: string): Promise<{ recommendation: Recommendation; history: AuditEntry[] } | undefined>;
  /** Applies a decision; throws SidecarError (API_NOT_FOUND, API_CONFLICT, API_FORBIDDEN, API_VALIDATION). */
  decide(id: string, request: DecisionRequest, actor: Actor): Promise<Recommendation>;
  /** Engineers only: writes the previous value back, audited. */
  revert(id: string, actor: Actor, note: string): Promise<Recommendation>;
  /** Changes with seq > afterSeq, oldest first (SSE resume with Last-Event-ID). */
  changesSince(afterSeq: number, limit: number): Promise<Change[]>;
  /** Live changes; returns the unsubscribe function. */
  subscribe(listener: (change: Change) => void): () => void;
}

/**
 * Alarm-management operations beside the decision API (implemented by the same service).
 * Errors: SC_ERR_API_FORBIDDEN (viewer), SC_ERR_API_VALIDATION (field named), SC_ERR_API_NOT_FOUND.
 */
export interface AlarmDisciplineService {
  /** Operators/engineers: silences a pattern for `durationMinutes` (≤ recommendations.shelveMaxHours), reason required. */
  shelve(
    request: { equipmentId: string; issueType: string; reason: string; durationMinutes: number },
    actor: Actor,
  ): Promise<ShelfView>;
  /** Ends a shelf early. */
  unshelve(id: number, actor: Actor): Promise<void>;
  listShelves(): Promise<ShelfView[]>;
  /** Operators/engineers: sets an equipment's operating mode (MAINTENANCE / STARTUP suppress). */
  setMode(equipmentId: string, mode: string, actor: Actor): Promise<void>;
  /** Current mode per equipment id (from the mode tag or the API). */
  modes(): ReadonlyMap<string, string>;
  kpis(): AlarmKpiView;
}
