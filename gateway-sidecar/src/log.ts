/** The root logger (STYLE.md §6). Components take `logger.child({ component })`. */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  '*.password',
  '*.apiKey',
  '*.token',
  '*.gatewaySecret',
  'password',
  'apiKey',
  'token',
  'authorization',
  // Notification channels: webhook URLs (Slack/Teams embed their secret in the URL), PagerDuty keys, headers.
  '*.routingKey',
  'routingKey',
  'notifications.channels[*].url',
  'notifications.channels[*].routingKey',
  'notifications.channels[*].headers',
  'notifications.channels[*].smtp.password',
  'channels[*].url',
  'channels[*].headers',
];

export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({
    level: options.level,
    name: options.name ?? 'sidecar',
    redact: { paths: REDACT, censor: '[redacted]' },
  });
}
