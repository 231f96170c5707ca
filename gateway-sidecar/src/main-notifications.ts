/**
 * Notification wiring for main.ts (kept beside it so main stays readable): channels from
 * `notifications.channels`, the Notifier over PgNotificationStore, fed from the recommendation
 * change stream (critical alerts and recommendations) and ticked on a timer; its routes join /api.
 * Nothing is built when `notifications.enabled` is false.
 */
import type { Router } from 'express';
import type pg from 'pg';
import type { Config } from './config.ts';
import type { EquipmentIndex } from './domain/equipment.ts';
import type { Logger } from './log.ts';
import { systemClock, type NotificationChannel } from './ports.ts';
import { Notifier } from './app/notifier.ts';
import type { RecommendationService } from './app/recommendation-service.ts';
import { PgNotificationStore } from './adapters/pg-notification-store.ts';
import { createEmailChannel } from './adapters/notify-email.ts';
import { createWebhookChannel } from './adapters/notify-webhook.ts';
import { actorOf } from './adapters/http/auth.ts';
import { createNotificationsRouter } from './adapters/http/notifications-routes.ts';
import { PAGERDUTY_EVENTS_URL } from './config-operations.ts';

export interface NotificationsHandle {
  readonly router: Router;
  /** Delivery counters for /metrics (registerOperationsMetrics). */
  stats(): ReturnType<Notifier['stats']>;
  /** Drift alerts of the learning loop (main-learning.ts) join the routing. */
  onDriftAlert: Notifier['onDriftAlert'];
  stop(): Promise<void>;
}

export function startNotifications(
  config: Config,
  pool: pg.Pool,
  index: EquipmentIndex,
  recs: RecommendationService,
  logger: Logger,
): NotificationsHandle | undefined {
  const n = config.notifications;
  if (!n.enabled) return undefined;
  const log = logger.child({ component: 'notifications' });
  const channels: NotificationChannel[] = n.channels.map((c) => {
    if (c.type === 'email') {
      const smtp = c.smtp;
      if (smtp === undefined)
        throw new Error(`notifications channel '${c.id}': type 'email' needs smtp settings`);
      return createEmailChannel({ id: c.id, ...smtp, timeoutMs: c.timeoutMs, source: n.source });
    }
    const url = c.type === 'pagerduty' ? (c.url ?? PAGERDUTY_EVENTS_URL) : (c.url as string);
    return createWebhookChannel({
      id: c.id,
      type: c.type,
      url,
      routingKey: c.routingKey,
      headers: c.headers,
      timeoutMs: c.timeoutMs,
      source: n.source,
    });
  });
  const notifier = new Notifier({
    store: new PgNotificationStore(pool),
    channels,
    settings: {
      routes: n.routes,
      escalation: n.escalation,
      dedupWindowMinutes: n.dedupWindowMinutes,
      pendingAfterMinutes: n.pendingAfterMinutes,
      pendingMinSeverity: n.pendingMinSeverity,
      retry: n.retry,
      queueMax: n.queueMax,
    },
    clock: systemClock,
    areaOf: (id) => index.equipment.get(id)?.area ?? 'default',
    onError: (err, context) => log.warn({ err, context }, 'notification worker error'),
  });
  const unsubscribe = recs.subscribe((change) => {
    if (change.type === 'critical_alert' && change.alert) notifier.onCriticalAlert(change.alert);
    else if (change.recommendation) notifier.onRecommendation(change.recommendation);
  });
  const timer = setInterval(() => {
    notifier.tick(systemClock.now()).catch((err: unknown) => log.warn({ err }, 'notification tick failed'));
  }, n.tickMs);
  timer.unref();
  // The pending watch list lives in memory: recommendations already pending at start join it.
  void recs
    .list({ status: ['pending'], limit: 1000, offset: 0 })
    .then(({ items }) => items.forEach((r) => notifier.onRecommendation(r)))
    .catch((err: unknown) => log.warn({ err }, 'could not load pending recommendations for notification'));
  log.info({ channels: channels.map((c) => c.id), routes: n.routes.length }, 'notifications enabled');
  return {
    router: createNotificationsRouter({ notifier, actorOf }),
    stats: () => notifier.stats(),
    onDriftAlert: (alert) => notifier.onDriftAlert(alert),
    async stop() {
      clearInterval(timer);
      unsubscribe();
      await notifier.close();
    },
  };
}
