/** The root logger (STYLE.md §6). Components take `logger.child({ component })`. */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = ['*.password', '*.apiKey', '*.token', '*.gatewaySecret', 'password', 'apiKey', 'token', 'authorization'];

export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({ level: options.level, name: options.name ?? 'sidecar', redact: { paths: REDACT, censor: '[redacted]' } });
}
