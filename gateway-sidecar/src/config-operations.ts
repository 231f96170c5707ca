/**
 * The `notifications` and `retention` sections of the configuration schema. They live in their
 * own file only to keep config.ts small; config.ts mounts them, so there is still one schema,
 * validated and documented (docs/config.md) like every other key.
 */
import { z } from 'zod';
import { isValidClockTime, isValidTimeZone } from './domain/notification-routing.ts';

const severity = z.enum(['low', 'medium', 'high', 'critical']);
const kind = z.enum(['critical_alert', 'recommendation_pending', 'drift_alert']);
const id = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'id must be 1-64 of A-Z a-z 0-9 _ . -');
const clock = z.string().refine(isValidClockTime, { message: "must be 'HH:MM' (00:00-23:59)" });

/** PagerDuty's Events API v2 endpoint, used when a pagerduty channel gives no url. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

const smtp = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    secure: z.boolean().default(false),
    requireTls: z.boolean().default(false),
    rejectUnauthorized: z.boolean().default(true),
    user: z.string().optional(),
    password: z.string().optional(),
    from: z.string().min(3),
    to: z.array(z.string().email()).min(1),
  })
  .strict();

const channel = z
  .object({
    id,
    type: z.enum(['webhook', 'pagerduty', 'slack', 'teams', 'email']),
    url: z.string().url().optional(),
    routingKey: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    timeoutMs: z.number().int().positive().max(120_000).default(5_000),
    smtp: smtp.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const need = (ok: boolean, key: string, why: string): void => {
      if (!ok) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: why });
    };
    if (c.type === 'webhook' || c.type === 'slack' || c.type === 'teams')
      need(c.url !== undefined, 'url', `type '${c.type}' needs a url`);
    if (c.type === 'pagerduty')
      need(c.routingKey !== undefined, 'routingKey', "type 'pagerduty' needs a routingKey");
    if (c.type === 'email') need(c.smtp !== undefined, 'smtp', "type 'email' needs smtp settings");
  });

const route = z
  .object({
    id,
    areas: z.array(z.string().min(1)).min(1).default(['*']),
    minSeverity: severity.default('high'),
    kinds: z.array(kind).min(1).default(['critical_alert', 'recommendation_pending']),
    channels: z.array(id).min(1),
    timeZone: z
      .string()
      .default('UTC')
      .refine(isValidTimeZone, { message: "must be an IANA zone ('Europe/Berlin') or an offset ('+02:00')" }),
    quietHours: z
      .object({
        start: clock,
        end: clock,
        days: z.array(z.number().int().min(0).max(6)).default([]),
        mode: z.enum(['suppress', 'delay']).default('delay'),
        bypassAtSeverity: severity.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const notificationsSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Name shown as the sender (PagerDuty `source`, chat footers, e-mail facts). */
    source: z.string().min(1).default('ignition-ai-sidecar'),
    channels: z.array(channel).default([]),
    routes: z.array(route).default([]),
    escalation: z
      .object({
        levels: z
          .array(
            z.object({ afterMinutes: z.number().positive(), channels: z.array(id).default([]) }).strict(),
          )
          .default([]),
      })
      .strict()
      .default({}),
    dedupWindowMinutes: z.number().positive().default(15),
    pendingAfterMinutes: z.number().positive().default(10),
    pendingMinSeverity: severity.default('high'),
    queueMax: z.number().int().positive().default(1_000),
    tickMs: z.number().int().positive().default(15_000),
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(50).default(8),
        baseDelayMs: z.number().int().positive().default(2_000),
        maxDelayMs: z.number().int().positive().default(600_000),
        factor: z.number().min(1).max(10).default(2),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((n, ctx) => {
    const ids = new Set<string>();
    n.channels.forEach((c, i) => {
      if (ids.has(c.id))
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['channels', i, 'id'],
          message: `duplicate channel id '${c.id}'`,
        });
      ids.add(c.id);
    });
    const known = (list: readonly string[], path: (string | number)[]): void => {
      list.forEach((c, j) => {
        if (!ids.has(c))
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [...path, j],
            message: `unknown channel '${c}'`,
          });
      });
    };
    n.routes.forEach((r, i) => known(r.channels, ['routes', i, 'channels']));
    n.escalation.levels.forEach((l, i) => known(l.channels, ['escalation', 'levels', i, 'channels']));
  });

export const retentionSchema = z
  .object({
    /** Days of raw bronze rows kept in full. */
    bronzeDays: z.number().int().min(1).max(3650).default(2),
    /** Days of scored silver rows kept in full; at least bronzeDays (anomaly context reads silver). */
    silverDays: z.number().int().min(1).max(3650).default(7),
    aggregatesDays: z.number().int().min(1).max(36_500).default(400),
    anomalyContextMinutes: z.number().min(0).max(1440).default(10),
    anomalyContextDays: z.number().int().min(1).max(36_500).default(90),
    pipelineMetricsDays: z.number().int().min(1).max(36_500).default(90),
    partitionsAheadDays: z.number().int().min(1).max(60).default(3),
    aggregateLookbackMinutes: z.number().int().min(2).max(10_080).default(180),
    intervalMinutes: z.number().positive().default(60),
  })
  .strict()
  .refine((r) => r.silverDays >= r.bronzeDays, {
    message: 'silverDays must be at least bronzeDays',
    path: ['silverDays'],
  });
