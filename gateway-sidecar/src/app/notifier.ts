/**
 * Notifications off the HMI. The pipeline hands triggers over with `onCriticalAlert` and
 * `onRecommendation`, which only push onto a bounded in-memory queue and return at once (a full
 * queue drops and counts, it never blocks). A single worker drains the queue: it routes (area,
 * severity, quiet hours), deduplicates repeats, records the notification and its deliveries in the
 * store, and sends. `tick(nowMs)` (called by a timer in main.ts) raises "still pending"
 * notifications, escalates unacknowledged ones and retries failed deliveries with exponential
 * backoff and jitter. Every delivery's state is durable and visible through `list`.
 */
import type { CriticalAlertView } from '../domain/recommendation-view.ts';
import type { DriftAlertNotice } from '../domain/learning/drift.ts';
import { randomUUID } from 'node:crypto';
import {
  backoffDelayMs,
  isAtLeast,
  isDuplicate,
  nextEscalation,
  routeNotification,
  uniqueChannels,
  type BackoffPolicy,
  type EscalationLevel,
  type NotificationKind,
  type RouteRule,
} from '../domain/notification-routing.ts';
import type { Severity } from '../domain/detection.ts';
import { ERRORS, SidecarError } from '../errors.ts';
import type {
  Clock,
  NewDelivery,
  NotificationChannel,
  NotificationListFilter,
  NotificationRecord,
  NotificationStore,
} from '../ports.ts';
import type { Actor, Recommendation } from './recommendation-service.ts';

/** The `notifications` config slice the notifier needs (see docs/notifications.md). */
export interface NotifierSettings {
  readonly routes: readonly RouteRule[];
  readonly escalation: { readonly levels: readonly EscalationLevel[] };
  readonly dedupWindowMinutes: number;
  readonly pendingAfterMinutes: number;
  /** Severities of recommendations that may raise a "still pending" notification. */
  readonly pendingMinSeverity: Severity;
  readonly retry: BackoffPolicy & { readonly maxAttempts: number };
  readonly queueMax: number;
}

/** A critical alert as the bypass path raises it (the same fields as the SSE `alert` change). */
export type CriticalAlertInput = CriticalAlertView;

export interface NotifierStats {
  readonly queued: number;
  readonly dropped: number;
  readonly notified: number;
  readonly duplicates: number;
  readonly sent: number;
  readonly retried: number;
  readonly failed: number;
}

export interface NotifierDeps {
  readonly store: NotificationStore;
  readonly channels: readonly NotificationChannel[];
  readonly settings: NotifierSettings;
  readonly clock: Clock;
  /** Plant area of an equipment id (from the equipment map); unknown equipment -> 'default'. */
  readonly areaOf: (equipmentId: string) => string;
  /** Called with errors the worker cannot hand to anyone (store down); log them. */
  readonly onError?: (err: unknown, context: string) => void;
  readonly random?: () => number;
  readonly newId?: () => string;
}

interface Trigger {
  readonly kind: NotificationKind;
  /** Set for plant-wide triggers (drift: '*'); otherwise the equipment's area. */
  readonly area?: string;
  readonly subjectId: string;
  readonly dedupKey: string;
  readonly equipmentId: string;
  readonly severity: Severity;
  readonly title: string;
  readonly body: string;
  readonly details: Record<string, unknown>;
  readonly atMs: number;
}

const CLAIM_LEASE_MS = 60_000;
const CLAIM_BATCH = 100;

export class Notifier {
  readonly #d: NotifierDeps;
  readonly #channels: ReadonlyMap<string, NotificationChannel>;
  readonly #queue: Trigger[] = [];
  /** Pending recommendations by id, with when they were created; fire after pendingAfterMinutes. */
  readonly #pending = new Map<string, Recommendation>();
  #draining: Promise<void> | undefined;
  #ticking: Promise<void> | undefined;
  #stats = { dropped: 0, notified: 0, duplicates: 0, sent: 0, retried: 0, failed: 0 };

  constructor(deps: NotifierDeps) {
    this.#d = deps;
    this.#channels = new Map(deps.channels.map((c) => [c.id, c]));
  }

  /**
   * A critical alert was raised. Returns false (and counts a drop) when the queue is full; never
   * waits for the database or a channel.
   */
  onCriticalAlert(alert: CriticalAlertInput): boolean {
    return this.#enqueue({
      kind: 'critical_alert',
      subjectId: alert.id,
      dedupKey: `alert:${alert.equipmentId}:${alert.sensorType}:${alert.level}`,
      equipmentId: alert.equipmentId,
      severity: 'critical',
      title: `${alert.level.toUpperCase()} ${alert.sensorType} on ${alert.equipmentId}`,
      body: alert.message,
      details: {
        tagPath: alert.tagPath,
        value: alert.value,
        threshold: alert.threshold,
        level: alert.level,
        alertId: alert.id,
      },
      atMs: Date.parse(alert.at),
    });
  }

  /**
   * A feature's distribution drifted from the serving model's training data (app/learning.ts, once
   * per feature when it starts drifting). Plant-wide: area '*', severity 'high'; dedup key
   * `drift:<feature>`, so a feature that keeps crossing the line pages once per dedup window.
   */
  onDriftAlert(alert: DriftAlertNotice): boolean {
    return this.#enqueue({
      kind: 'drift_alert',
      subjectId: `drift:${alert.modelVersion}:${alert.feature}`,
      dedupKey: `drift:${alert.feature}`,
      equipmentId: '*',
      area: '*',
      severity: 'high',
      title: `Feature drift: ${alert.feature} (PSI ${alert.psi.toFixed(3)})`,
      body: `PSI ${alert.psi.toFixed(3)} ≥ ${alert.threshold} against the training data of ${alert.modelVersion} over ${alert.rows} scored events. Consider retraining (npm run retrain).`,
      details: { ...alert },
      atMs: Date.parse(alert.at),
    });
  }

  /**
   * Every recommendation change (from RecommendationService.subscribe). A pending one is watched
   * and notified once it stays pending for pendingAfterMinutes; any decision stops watching and
   * acknowledges its open notifications, which stops their escalation.
   */
  onRecommendation(rec: Recommendation): void {
    if (rec.status === 'pending') {
      this.#pending.set(rec.id, rec);
      return;
    }
    this.#pending.delete(rec.id);
    const actor = `decision:${rec.decidedBy ?? 'system'}`;
    void this.#d.store
      .openIdsBySubject(rec.id)
      .then((ids) => Promise.all(ids.map((id) => this.#ack(id, actor, `recommendation ${rec.status}`))))
      .catch((err: unknown) => this.#d.onError?.(err, 'acknowledge on decision'));
  }

  /**
   * Periodic work at `nowMs`: pending recommendations that waited long enough, escalations that
   * are due, deliveries whose retry time has come. Overlapping calls share one run.
   */
  tick(nowMs: number): Promise<void> {
    this.#ticking ??= this.#tick(nowMs).finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  /**
   * Acknowledges a notification: stops its escalation, cancels its unsent pages and tells channels
   * that track incidents (PagerDuty). Throws SC_ERR_API_NOT_FOUND for an unknown id; acknowledging
   * twice is harmless and keeps the first acknowledgement.
   */
  async acknowledge(id: string, actor: Pick<Actor, 'user'>, note?: string): Promise<NotificationRecord> {
    const result = await this.#ack(id, actor.user, note ?? null);
    if (!result) throw new SidecarError(ERRORS.API_NOT_FOUND, `no notification '${id}'`);
    await this.#deliverDue(this.#d.clock.now());
    return (await this.#d.store.get(id)) ?? result;
  }

  /** Notifications with every delivery's state, attempts and last error; newest first. */
  list(filter: NotificationListFilter): Promise<{ items: NotificationRecord[]; total: number }> {
    return this.#d.store.list(filter);
  }

  /** One notification with its deliveries, or undefined. */
  get(id: string): Promise<NotificationRecord | undefined> {
    return this.#d.store.get(id);
  }

  /** Queue and counters for /metrics. */
  stats(): NotifierStats {
    return { queued: this.#queue.length, ...this.#stats };
  }

  /** Resolves when the queue is empty and no send is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#draining || this.#ticking) await (this.#draining ?? this.#ticking);
  }

  /** Waits for in-flight work, then closes the channels. */
  async close(): Promise<void> {
    await this.idle();
    await Promise.all([...this.#channels.values()].map((c) => c.close?.()));
  }

  #enqueue(t: Trigger): boolean {
    if (this.#queue.length >= this.#d.settings.queueMax) {
      this.#stats.dropped++;
      return false;
    }
    this.#queue.push(t);
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
    return true;
  }

  async #drain(): Promise<void> {
    // Let the caller's synchronous work finish first: the pipeline never waits on us.
    await Promise.resolve();
    for (let t = this.#queue.shift(); t; t = this.#queue.shift()) {
      try {
        await this.#raise(t);
      } catch (err) {
        this.#d.onError?.(err, 'raise notification');
      }
    }
    await this.#deliverDue(this.#d.clock.now());
  }

  async #raise(t: Trigger): Promise<void> {
    const s = this.#d.settings;
    const nowMs = this.#d.clock.now();
    const previous = await this.#d.store.latestByDedupKey(t.dedupKey);
    if (previous && isDuplicate(previous.lastNotifiedAtMs, nowMs, s.dedupWindowMinutes)) {
      this.#stats.duplicates++;
      await this.#d.store.recordRepeat(previous.id, nowMs);
      return;
    }
    const area = t.area ?? this.#d.areaOf(t.equipmentId);
    const decisions = routeNotification({ kind: t.kind, area, severity: t.severity }, s.routes, nowMs);
    if (decisions.length === 0) return;
    const deliveries: NewDelivery[] = [];
    const seen = new Set<string>();
    // A channel reached by a sending route is not also recorded as suppressed by a quiet route.
    for (const d of [...decisions].sort(
      (a, b) => (a.action === 'suppress' ? 1 : 0) - (b.action === 'suppress' ? 1 : 0),
    )) {
      for (const channelId of d.channels) {
        if (seen.has(channelId)) continue;
        seen.add(channelId);
        deliveries.push(
          d.action === 'suppress'
            ? { channelId, action: 'trigger', escalationLevel: 0, state: 'suppressed', dueAtMs: nowMs }
            : { channelId, action: 'trigger', escalationLevel: 0, state: 'queued', dueAtMs: d.notBeforeMs },
        );
      }
    }
    this.#stats.notified++;
    await this.#d.store.create(
      {
        id: (this.#d.newId ?? randomUUID)(),
        kind: t.kind,
        dedupKey: t.dedupKey,
        subjectId: t.subjectId,
        equipmentId: t.equipmentId,
        area,
        severity: t.severity,
        title: t.title,
        body: t.body,
        details: { ...t.details, raisedAt: new Date(t.atMs).toISOString() },
        routeIds: decisions.map((d) => d.routeId),
        channelIds: uniqueChannels(decisions),
        createdAt: new Date(nowMs).toISOString(),
      },
      deliveries,
    );
  }

  async #tick(nowMs: number): Promise<void> {
    const s = this.#d.settings;
    for (const rec of [...this.#pending.values()]) {
      if (nowMs - Date.parse(rec.createdAt) < s.pendingAfterMinutes * 60_000) continue;
      this.#pending.delete(rec.id);
      if (!isAtLeast(rec.severity, s.pendingMinSeverity)) continue;
      this.#enqueue({
        kind: 'recommendation_pending',
        subjectId: rec.id,
        dedupKey: `rec:${rec.id}`,
        equipmentId: rec.equipmentId,
        severity: rec.severity,
        title: `Recommendation waiting ${s.pendingAfterMinutes} min: ${rec.issueType} on ${rec.equipmentId}`,
        body: rec.text,
        details: {
          recommendationId: rec.id,
          issueType: rec.issueType,
          confidence: rec.confidence,
          createdAt: rec.createdAt,
        },
        atMs: nowMs,
      });
    }
    await this.#draining;
    try {
      await this.#escalate(nowMs);
    } catch (err) {
      this.#d.onError?.(err, 'escalate');
    }
    await this.#deliverDue(nowMs);
  }

  async #escalate(nowMs: number): Promise<void> {
    const levels = this.#d.settings.escalation.levels;
    if (levels.length === 0) return;
    for (const n of await this.#d.store.openNotifications(500)) {
      const step = nextEscalation(
        {
          level: n.escalationLevel,
          lastNotifiedAtMs: Date.parse(n.lastNotifiedAt),
          acknowledged: n.acknowledgedAt !== null,
        },
        levels,
        nowMs,
      );
      if (!step.due) continue;
      const channels = step.channels === 'original' ? n.channelIds : step.channels;
      await this.#d.store.escalate(
        n.id,
        step.level,
        nowMs,
        channels.map((channelId) => ({
          channelId,
          action: 'trigger',
          escalationLevel: step.level,
          state: 'queued',
          dueAtMs: nowMs,
        })),
      );
    }
  }

  async #ack(id: string, actor: string, note: string | null): Promise<NotificationRecord | undefined> {
    const nowMs = this.#d.clock.now();
    const result = await this.#d.store.acknowledge(id, actor, note, nowMs);
    if (!result || result.alreadyAcknowledged) return result?.record;
    const tracked = new Set(
      result.record.deliveries
        .filter(
          (d) =>
            d.action === 'trigger' &&
            d.state === 'sent' &&
            this.#channels.get(d.channelId)?.acceptsAcknowledge,
        )
        .map((d) => d.channelId),
    );
    const acks: NewDelivery[] = [...tracked].map((channelId) => ({
      channelId,
      action: 'acknowledge',
      escalationLevel: result.record.escalationLevel,
      state: 'queued',
      dueAtMs: nowMs,
    }));
    if (acks.length > 0) await this.#d.store.addDeliveries(id, acks, nowMs);
    return result.record;
  }

  async #deliverDue(nowMs: number): Promise<void> {
    try {
      for (;;) {
        const due = await this.#d.store.claimDue(nowMs, CLAIM_LEASE_MS, CLAIM_BATCH);
        if (due.length === 0) return;
        await Promise.all(due.map(({ delivery, notification }) => this.#attempt(delivery, notification)));
        if (due.length < CLAIM_BATCH) return;
      }
    } catch (err) {
      this.#d.onError?.(err, 'deliver');
    }
  }

  async #attempt(delivery: NotificationRecord['deliveries'][number], n: NotificationRecord): Promise<void> {
    const { retry } = this.#d.settings;
    const attempts = delivery.attempts + 1;
    const channel = this.#channels.get(delivery.channelId);
    let error: string | null = null;
    if (!channel) {
      error = `no channel '${delivery.channelId}' is configured`;
    } else {
      try {
        await channel.send({
          notificationId: n.id,
          kind: n.kind,
          action: delivery.action,
          dedupKey: n.dedupKey,
          severity: n.severity,
          area: n.area,
          equipmentId: n.equipmentId,
          title: n.title,
          body: n.body,
          details: n.details,
          createdAt: n.createdAt,
          escalationLevel: delivery.escalationLevel,
        });
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    const atMs = this.#d.clock.now();
    if (error === null) {
      this.#stats.sent++;
      await this.#d.store.updateDelivery(delivery.deliveryId, {
        state: 'sent',
        attempts,
        lastError: null,
        nextAttemptAtMs: null,
        atMs,
      });
    } else if (!channel || attempts >= retry.maxAttempts) {
      this.#stats.failed++;
      await this.#d.store.updateDelivery(delivery.deliveryId, {
        state: 'failed',
        attempts,
        lastError: error,
        nextAttemptAtMs: null,
        atMs,
      });
    } else {
      this.#stats.retried++;
      const wait = backoffDelayMs(attempts, retry, (this.#d.random ?? Math.random)());
      await this.#d.store.updateDelivery(delivery.deliveryId, {
        state: 'retrying',
        attempts,
        lastError: error,
        nextAttemptAtMs: atMs + wait,
        atMs,
      });
    }
  }
}
