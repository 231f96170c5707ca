/**
 * The interfaces the application needs from the outside world (STYLE.md §2). Adapters implement
 * them; `app/` receives them as parameters; `main.ts` wires them. Each port stays small: only the
 * methods one use case needs. Areas add their ports here with TSDoc on every method.
 */
import type { TagEvent } from './domain/tag-event.ts';
import type { ActionSpec, Approval } from './domain/recommendation.ts';
import type { DisciplineHistory, Shelf } from './domain/alarm-discipline.ts';
import type { CriticalAlertCandidate } from './domain/critical.ts';
import type { RejectedSnapshot } from './domain/reopen.ts';
import type { Contribution, Severity } from './domain/detection.ts';
import type {
  AuditEntry,
  Change,
  ListFilter,
  Recommendation,
  RecommendationStatus,
  WriteResult,
} from './domain/recommendation-view.ts';

/** Time, injected so tests control it. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Connection state a source reports for /health and the UI. */
export type SourceState = 'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'finished';

/**
 * A stream of tag changes (event-driven: the source pushes, nobody polls).
 * `start` resolves once the source is subscribed; events arrive through `onEvents` in batches, and
 * the source waits for the returned promise before delivering the next batch (backpressure).
 */
export interface TagSource {
  readonly name: string;
  start(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void>;
  stop(): Promise<void>;
  state(): SourceState;
  /** Called with every state change (reconnecting, connected…); optional. */
  onStateChange?(listener: (state: SourceState, detail?: string) => void): void;
  /**
   * Counts of input the source itself could not turn into events (undecodable payload, bad CSV
   * line…), by reason; optional. Event-level problems are counted later by the EventValidator.
   */
  rejectedCounts?(): Readonly<Record<string, number>>;
}

/** Result of one setpoint write, after read-back. */
export type WriteOutcome =
  | { readonly ok: true; readonly readBack: number; readonly previous: number | undefined }
  | { readonly ok: false; readonly reason: string; readonly statusCode?: string };

/**
 * Writes a setpoint on a real tag. Implementations write, then read back and compare.
 * Only the setpoint-write use case calls this, and only with an approved, bounds-checked write.
 */
export interface TagWriter {
  /** Reads the live value of a tag (used for range/step checks before writing). */
  read(tagPath: string): Promise<number | undefined>;
  /** Writes `value` and reads it back; never throws for a refused write, returns ok:false with the reason. */
  write(tagPath: string, value: number): Promise<WriteOutcome>;
}

// ---------------------------------------------------------------------------------------------
// Notifications (alerts that reach people off the HMI). Used by app/notifier.ts.

/** What a channel sends: one page, or the acknowledgement of an earlier page. */
export interface NotificationMessage {
  readonly notificationId: string;
  readonly kind: 'critical_alert' | 'recommendation_pending' | 'drift_alert';
  /** 'trigger' pages; 'acknowledge' tells channels that track incidents (PagerDuty) it was acknowledged. */
  readonly action: 'trigger' | 'acknowledge';
  /** Stable key of the underlying condition; PagerDuty's dedup_key. */
  readonly dedupKey: string;
  readonly severity: 'low' | 'medium' | 'high' | 'critical';
  readonly area: string;
  readonly equipmentId: string;
  readonly title: string;
  readonly body: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** ISO 8601 time the notification was first raised. */
  readonly createdAt: string;
  /** 0 for the first page, n for escalation level n. */
  readonly escalationLevel: number;
}

/**
 * One configured way to reach people (webhook, PagerDuty, Slack, Teams, e-mail). `send` resolves
 * when the far end accepted the message and rejects with an Error naming the problem otherwise;
 * it must give up on its own within the channel's timeout so a dead endpoint cannot hang a worker.
 */
export interface NotificationChannel {
  readonly id: string;
  readonly type: string;
  /** True when the channel understands 'acknowledge' messages (PagerDuty). */
  readonly acceptsAcknowledge: boolean;
  send(message: NotificationMessage): Promise<void>;
  /** Releases sockets (SMTP pool); optional. */
  close?(): Promise<void>;
}

export type DeliveryState = 'queued' | 'sent' | 'retrying' | 'failed' | 'suppressed' | 'cancelled';

export interface DeliveryRecord {
  readonly deliveryId: number;
  readonly notificationId: string;
  readonly channelId: string;
  readonly action: 'trigger' | 'acknowledge';
  readonly escalationLevel: number;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: string | null;
  readonly sentAt: string | null;
  readonly updatedAt: string;
}

export interface NotificationRecord {
  readonly id: string;
  readonly kind: 'critical_alert' | 'recommendation_pending' | 'drift_alert';
  readonly dedupKey: string;
  readonly subjectId: string;
  readonly equipmentId: string;
  readonly area: string;
  readonly severity: 'low' | 'medium' | 'high' | 'critical';
  readonly title: string;
  readonly body: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly routeIds: readonly string[];
  readonly channelIds: readonly string[];
  readonly escalationLevel: number;
  readonly repeatCount: number;
  readonly createdAt: string;
  readonly lastNotifiedAt: string;
  readonly acknowledgedBy: string | null;
  readonly acknowledgedAt: string | null;
  readonly deliveries: readonly DeliveryRecord[];
}

/** A delivery to create: state 'queued' (due at `dueAtMs`) or 'suppressed' (quiet hours). */
export interface NewDelivery {
  readonly channelId: string;
  readonly action: 'trigger' | 'acknowledge';
  readonly escalationLevel: number;
  readonly state: 'queued' | 'suppressed';
  readonly dueAtMs: number;
}

export interface NotificationListFilter {
  readonly acknowledged?: boolean;
  readonly kind?: 'critical_alert' | 'recommendation_pending' | 'drift_alert';
  readonly deliveryState?: DeliveryState;
  readonly subjectId?: string;
  readonly limit: number;
  readonly offset: number;
}

/** Durable notification state (Postgres: agentic_hmi.notifications + notification_deliveries). */
export interface NotificationStore {
  /** The most recent notification with this dedup key, or undefined. */
  latestByDedupKey(
    dedupKey: string,
  ): Promise<{ id: string; lastNotifiedAtMs: number; acknowledged: boolean } | undefined>;
  /** Counts a suppressed repeat on an existing notification. */
  recordRepeat(id: string, atMs: number): Promise<void>;
  /** Creates the notification and its deliveries in one transaction. */
  create(
    n: Omit<
      NotificationRecord,
      | 'deliveries'
      | 'escalationLevel'
      | 'repeatCount'
      | 'acknowledgedBy'
      | 'acknowledgedAt'
      | 'lastNotifiedAt'
    >,
    deliveries: readonly NewDelivery[],
  ): Promise<void>;
  /**
   * Claims up to `limit` deliveries due at `nowMs` (queued or retrying) for `leaseMs`, so another
   * worker or tick does not send them at the same time. Returns them with their notification.
   */
  claimDue(
    nowMs: number,
    leaseMs: number,
    limit: number,
  ): Promise<{ delivery: DeliveryRecord; notification: NotificationRecord }[]>;
  /** Records the outcome of one attempt. */
  updateDelivery(
    deliveryId: number,
    update: {
      state: DeliveryState;
      attempts: number;
      lastError: string | null;
      nextAttemptAtMs: number | null;
      atMs: number;
    },
  ): Promise<void>;
  /** Unacknowledged notifications (for escalation), oldest first. */
  openNotifications(limit: number): Promise<NotificationRecord[]>;
  /** Records escalation to `level` and queues its deliveries. */
  escalate(id: string, level: number, atMs: number, deliveries: readonly NewDelivery[]): Promise<void>;
  /**
   * Marks acknowledged and cancels its queued/retrying trigger deliveries. Returns the record, or
   * undefined when there is no such notification; `alreadyAcknowledged` when someone was first.
   */
  acknowledge(
    id: string,
    actor: string,
    note: string | null,
    atMs: number,
  ): Promise<{ record: NotificationRecord; alreadyAcknowledged: boolean } | undefined>;
  /** Ids of unacknowledged notifications about a subject (alert or recommendation id). */
  openIdsBySubject(subjectId: string): Promise<string[]>;
  /** Queues extra deliveries (acknowledge messages) for an existing notification. */
  addDeliveries(id: string, deliveries: readonly NewDelivery[], atMs: number): Promise<void>;
  list(filter: NotificationListFilter): Promise<{ items: NotificationRecord[]; total: number }>;
  get(id: string): Promise<NotificationRecord | undefined>;
}

// ── Recommendations (store, advisor) ─────────────────────────────────────────────────────────
// The persistence port of the recommendation use cases (adapters/pg-recommendation-store.ts).
// Every method that changes a recommendation also appends the audit row and the change-log row in
// the same transaction, and returns the Change so the service can push it after commit.

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
  /**
   * A rejected row under this key takes the events only when true (the engine judged them
   * same-looking, domain/reopen.ts); otherwise the upsert answers `held` with the row's snapshot.
   */
  readonly intoRejected?: boolean;
  /** Set on a row raised because the rejected one (`fromId`) was bypassed; stored on insert only. */
  readonly reopen?: { readonly fromId: string; readonly reason: string };
}

export type UpsertOutcome =
  | {
      readonly outcome: 'inserted' | 'updated';
      readonly recommendation: Recommendation;
      readonly change: Change;
    }
  | { readonly outcome: 'unchanged' }
  /** The key's row is rejected and the batch brings new events: the engine decides where they go. */
  | { readonly outcome: 'held'; readonly rejected: RejectedSnapshot };

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
  /** Which of `eventIds` rows of `dedupKeys` have recorded (a replay regrouped past a rejection). */
  recordedEventIds(dedupKeys: readonly string[], eventIds: readonly string[]): Promise<string[]>;
  list(filter: ListFilter): Promise<{ items: Recommendation[]; total: number }>;
  get(id: string): Promise<{ recommendation: Recommendation; history: AuditEntry[] } | undefined>;
  /**
   * Locks the row, calls `plan` with the current state (plan throws SidecarError to refuse, which
   * rolls back) and stores the patch + audit + change. Throws SC_ERR_API_NOT_FOUND for no row.
   */
  transition(
    id: string,
    nowMs: number,
    plan: (current: Recommendation) => TransitionPatch,
  ): Promise<{ recommendation: Recommendation; change: Change }>;
  /** Claims the write of `purpose` once; false when already claimed or the status is not `requiredStatus`. */
  claimWrite(
    id: string,
    purpose: 'apply' | 'revert',
    requiredStatus: RecommendationStatus,
    tagPath: string,
    actor: string,
    nowMs: number,
  ): Promise<boolean>;
  /** Records the write outcome and applies the transition in one transaction. */
  finishWrite(
    id: string,
    purpose: 'apply' | 'revert',
    record: WriteRecord,
    nowMs: number,
    plan: (current: Recommendation) => TransitionPatch,
  ): Promise<{ recommendation: Recommendation; change: Change }>;
  /** Deletes an unfinished or failed claim so a refused revert can be retried. */
  releaseClaim(id: string, purpose: 'apply' | 'revert'): Promise<void>;
  /** Claims that never finished (a crash mid-write), oldest first. */
  unfinishedWrites(): Promise<{ id: string; purpose: 'apply' | 'revert' }[]>;
  /** Ids of recommendations whose time-driven transition is due. */
  dueIds(nowMs: number, expireAfterMs: number): Promise<string[]>;
  changesSince(afterSeq: number, limit: number): Promise<Change[]>;
  /** Deletes change-log rows older than `beforeMs` (SSE resume only needs recent history); returns rows deleted. */
  pruneChanges(beforeMs: number): Promise<number>;
  /**
   * Writes new alerts (idempotent by id) and returns the changes of those actually inserted. `seqs[i]`,
   * when given, is the change-log seq alert i was already pushed with (from `reserveChangeSeqs`);
   * otherwise the log assigns one.
   */
  appendCriticalAlerts(
    alerts: readonly CriticalAlertCandidate[],
    seqs?: readonly (number | undefined)[],
  ): Promise<Change[]>;
  /** Takes `n` change-log seqs (ascending) for changes pushed before they are written. */
  reserveChangeSeqs(n: number): Promise<number[]>;
  /** Source time of the newest stored critical alert (undefined: none). */
  latestCriticalAlertMs(): Promise<number | undefined>;
  /** Operator notes of decided recommendations of the same equipment and issue, newest first. */
  similarNotes(equipmentId: string, issueType: string, limit: number): Promise<string[]>;
  addShelf(shelf: Omit<Shelf, 'id'>): Promise<Shelf>;
  /** Ends a shelf early; false when it does not exist or already ended. */
  endShelf(id: number, by: string, nowMs: number): Promise<boolean>;
  activeShelves(nowMs: number): Promise<Shelf[]>;
  /** What flood control and the alarm KPIs rebuild from after a restart (DISCIPLINE_HISTORY_MS up to nowMs). */
  disciplineHistory(nowMs: number): Promise<DisciplineHistory>;
  setMode(equipmentId: string, mode: string, source: 'tag' | 'api', by: string, nowMs: number): Promise<void>;
  modes(): Promise<Map<string, string>>;
}

/** What an advisor gets: the playbook's view plus recent data and what operators said before. */
export interface AdvisorContext {
  readonly equipmentId: string;
  readonly equipmentKind: string;
  readonly issueType: string;
  readonly playbookText: string;
  readonly explanation: readonly Contribution[];
  readonly recentReadings: readonly {
    readonly tagPath: string;
    readonly sensorType: string;
    readonly value: number;
    readonly at: string;
    readonly score: number;
  }[];
  readonly operatorNotes: readonly string[];
}

/** Optional text enrichment (adapters/llm-advisor.ts). undefined = keep the playbook text. Never throws. */
export interface Advisor {
  advise(context: AdvisorContext): Promise<string | undefined>;
}

// ---------------------------------------------------------------------------------------------
// Scoring (used by app/detector.ts; implemented by adapters/onnx-model-runner.ts).

/** Raw outputs of the ensemble for `rows` feature rows, one value per row each. */
export interface ModelOutputs {
  readonly ifScore: Float32Array;
  readonly rfScore: Float32Array;
}

/** A loaded model version that scores feature rows (FEATURE_NAMES order, row-major float32). */
export interface ModelRunner {
  /** Version string from model.json, stored with every scored row. */
  readonly modelVersion: string;
  /** Input feature names in order, as declared by the model (validated against the contract at load). */
  readonly inputNames: readonly string[];
  /** Anomaly line on the ensemble score, from model.json (`thresholds.anomaly`). */
  readonly anomalyThreshold: number;
  /** Scores `rows` rows of `features`; rejects with SC_ERR_MODEL_LOAD if the runtime fails. */
  run(features: Float32Array, rows: number): Promise<ModelOutputs>;
  /** Releases the runtime session. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Use-case contracts adapters implement or call (defined beside their use cases in app/, named
// here so adapters depend on ports.ts rather than on app/).
export type { RecommendationService, AlarmDisciplineService } from './app/recommendation-service.ts';
export type {
  BatchDetector,
  CheckpointStore,
  CriticalBypass,
  IngestObserver,
  IngestSink,
  ModeListener,
  RecommendationIntake,
  SetpointListener,
} from './app/ingest.ts';
