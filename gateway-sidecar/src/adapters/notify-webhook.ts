/**
 * HTTP notification channels: a generic JSON webhook, PagerDuty Events API v2, Slack incoming
 * webhooks (text + blocks) and Microsoft Teams connectors (MessageCard). One POST per message with
 * a hard timeout; any non-2xx answer, timeout or socket error rejects with a message that names
 * the channel and the problem but never the URL or routing key (both are secrets).
 */
import type { NotificationChannel, NotificationMessage } from '../ports.ts';

export type WebhookKind = 'webhook' | 'pagerduty' | 'slack' | 'teams';

export interface WebhookChannelOptions {
  readonly id: string;
  readonly type: WebhookKind;
  readonly url: string;
  /** PagerDuty integration key (Events API v2); required for type 'pagerduty'. */
  readonly routingKey?: string;
  /** Extra headers for the generic webhook (e.g. an Authorization header of the receiver). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Shown as PagerDuty `source` and in chat messages. */
  readonly source: string;
}

const PD_SEVERITY: Readonly<Record<NotificationMessage['severity'], string>> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
};

const TEAMS_COLOUR: Readonly<Record<NotificationMessage['severity'], string>> = {
  critical: 'B00020',
  high: 'E65100',
  medium: 'F9A825',
  low: '546E7A',
};

function headline(m: NotificationMessage): string {
  const prefix =
    m.action === 'acknowledge'
      ? 'ACKNOWLEDGED: '
      : m.escalationLevel > 0
        ? `ESCALATION ${m.escalationLevel}: `
        : '';
  return `${prefix}${m.title}`;
}

/** PagerDuty Events API v2 body: trigger with a payload, or acknowledge by dedup_key. */
export function pagerDutyBody(
  m: NotificationMessage,
  routingKey: string,
  source: string,
): Record<string, unknown> {
  if (m.action === 'acknowledge')
    return { routing_key: routingKey, event_action: 'acknowledge', dedup_key: m.dedupKey };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: m.dedupKey,
    payload: {
      // PagerDuty truncates summaries at 1024 characters; do it ourselves so the end is visible.
      summary: headline(m).slice(0, 1024),
      severity: PD_SEVERITY[m.severity],
      source,
      timestamp: m.createdAt,
      component: m.equipmentId,
      group: m.area,
      class: m.kind,
      custom_details: {
        ...m.details,
        body: m.body,
        notificationId: m.notificationId,
        escalationLevel: m.escalationLevel,
      },
    },
  };
}

/** Slack incoming-webhook body: `text` is the fallback for notifications, blocks the rich view. */
export function slackBody(m: NotificationMessage, source: string): Record<string, unknown> {
  return {
    text: `${headline(m)} (${m.severity}, ${m.area})`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: headline(m).slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: m.body.slice(0, 3000) } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `*Severity* ${m.severity} · *Area* ${m.area} · *Equipment* ${m.equipmentId} · *Id* ${m.notificationId} · ${source}`,
          },
        ],
      },
    ],
  };
}

/** Microsoft Teams connector body (legacy MessageCard, still accepted by incoming webhooks and Workflows). */
export function teamsBody(m: NotificationMessage, source: string): Record<string, unknown> {
  return {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: headline(m),
    themeColor: TEAMS_COLOUR[m.severity],
    title: headline(m),
    text: m.body,
    sections: [
      {
        facts: [
          { name: 'Severity', value: m.severity },
          { name: 'Area', value: m.area },
          { name: 'Equipment', value: m.equipmentId },
          { name: 'Raised', value: m.createdAt },
          { name: 'Notification', value: m.notificationId },
          { name: 'Source', value: source },
        ],
      },
    ],
  };
}

/** Generic webhook body: the message as it is, with a schema tag so receivers can version. */
export function genericBody(m: NotificationMessage, source: string): Record<string, unknown> {
  return { schema: 'ignition-ai.notification/v1', source, ...m };
}

function bodyFor(o: WebhookChannelOptions, m: NotificationMessage): Record<string, unknown> {
  switch (o.type) {
    case 'pagerduty':
      return pagerDutyBody(m, o.routingKey ?? '', o.source);
    case 'slack':
      return slackBody(m, o.source);
    case 'teams':
      return teamsBody(m, o.source);
    case 'webhook':
      return genericBody(m, o.source);
  }
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `timed out after ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `connection failed: ${cause.code}`;
  return `request failed: ${err instanceof Error ? err.message : String(err)}`;
}

export function createWebhookChannel(options: WebhookChannelOptions): NotificationChannel {
  if (options.type === 'pagerduty' && !options.routingKey) {
    throw new RangeError(`channel '${options.id}': type 'pagerduty' needs a routingKey`);
  }
  return {
    id: options.id,
    type: options.type,
    // Only PagerDuty tracks incidents; chat and generic receivers would just get a second message.
    acceptsAcknowledge: options.type === 'pagerduty',
    async send(message: NotificationMessage): Promise<void> {
      let res: Response;
      try {
        res = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...options.headers },
          body: JSON.stringify(bodyFor(options, message)),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (err) {
        throw new Error(`${options.type} channel '${options.id}': ${describe(err, options.timeoutMs)}`, {
          cause: err,
        });
      }
      const text = await res.text().catch(() => '');
      if (!res.ok) {
        throw new Error(
          `${options.type} channel '${options.id}': HTTP ${res.status} ${text.slice(0, 200)}`.trim(),
        );
      }
    },
  };
}
