/**
 * The interfaces the application needs from the outside world (STYLE.md §2). Adapters implement
 * them; `app/` receives them as parameters; `main.ts` wires them. Each port stays small: only the
 * methods one use case needs. Areas add their ports here with TSDoc on every method.
 */
import type { TagEvent } from './domain/tag-event.ts';

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
  readonly kind: 'critical_alert' | 'recommendation_pending';
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
  readonly kind: 'critical_alert' | 'recommendation_pending';
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
  readonly kind?: 'critical_alert' | 'recommendation_pending';
  readonly deliveryState?: DeliveryState;
  readonly subjectId?: string;
  readonly limit: number;
  readonly offset: number;
}

/** Durable notification state (Postgres: agentic_hmi.notifications + notification_deliveries). */
export interface NotificationStore {
  /** The most recent notification with this dedup key, or undefined. */
  latestByDedupKey(dedupKey: string): Promise<{ id: string; lastNotifiedAtMs: number; acknowledged: boolean } | undefined>;
  /** Counts a suppressed repeat on an existing notification. */
  recordRepeat(id: string, atMs: number): Promise<void>;
  /** Creates the notification and its deliveries in one transaction. */
  create(
    n: Omit<NotificationRecord, 'deliveries' | 'escalationLevel' | 'repeatCount' | 'acknowledgedBy' | 'acknowledgedAt' | 'lastNotifiedAt'>,
    deliveries: readonly NewDelivery[],
  ): Promise<void>;
  /**
   * Claims up to `limit` deliveries due at `nowMs` (queued or retrying) for `leaseMs`, so another
   * worker or tick does not send them at the same time. Returns them with their notification.
   */
  claimDue(nowMs: number, leaseMs: number, limit: number): Promise<{ delivery: DeliveryRecord; notification: NotificationRecord }[]>;
  /** Records the outcome of one attempt. */
  updateDelivery(
    deliveryId: number,
    update: { state: DeliveryState; attempts: number; lastError: string | null; nextAttemptAtMs: number | null; atMs: number },
  ): Promise<void>;
  /** Unacknowledged notifications (for escalation), oldest first. */
  openNotifications(limit: number): Promise<NotificationRecord[]>;
  /** Records escalation to `level` and queues its deliveries. */
  escalate(id: string, level: number, atMs: number, deliveries: readonly NewDelivery[]): Promise<void>;
  /**
   * Marks acknowledged and cancels its queued/retrying trigger deliveries. Returns the record, or
   * undefined when there is no such notification; `alreadyAcknowledged` when someone was first.
   */
  acknowledge(id: string, actor: string, note: string | null, atMs: number): Promise<{ record: NotificationRecord; alreadyAcknowledged: boolean } | undefined>;
  /** Ids of unacknowledged notifications about a subject (alert or recommendation id). */
  openIdsBySubject(subjectId: string): Promise<string[]>;
  /** Queues extra deliveries (acknowledge messages) for an existing notification. */
  addDeliveries(id: string, deliveries: readonly NewDelivery[], atMs: number): Promise<void>;
  list(filter: NotificationListFilter): Promise<{ items: NotificationRecord[]; total: number }>;
  get(id: string): Promise<NotificationRecord | undefined>;
}
