/**
 * E-mail notification channel over SMTP (nodemailer). Plain text plus a small HTML part; the
 * subject carries severity and equipment so a mail rule can route it. Connection, greeting and
 * socket timeouts all equal the channel timeout so a dead relay fails the attempt instead of
 * hanging the notifier's worker.
 */
import nodemailer from 'nodemailer';
import type { NotificationChannel, NotificationMessage } from '../ports.ts';

export interface EmailChannelOptions {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** true: TLS from the first byte (465); false: plain, upgraded with STARTTLS when offered. */
  readonly secure: boolean;
  /** Refuse to send when the server does not offer STARTTLS (only with secure = false). */
  readonly requireTls: boolean;
  /** Check the server certificate. */
  readonly rejectUnauthorized: boolean;
  readonly user?: string;
  readonly password?: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs: number;
  readonly source: string;
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Subject, text and HTML of one message (exported for tests and previews). */
export function renderEmail(
  m: NotificationMessage,
  source: string,
): { subject: string; text: string; html: string } {
  const tag =
    m.action === 'acknowledge'
      ? 'ACK'
      : m.escalationLevel > 0
        ? `ESCALATION ${m.escalationLevel}`
        : m.severity.toUpperCase();
  const subject = `[${tag}] ${m.title} (${m.area})`.slice(0, 250);
  const facts: [string, string][] = [
    ['Severity', m.severity],
    ['Area', m.area],
    ['Equipment', m.equipmentId],
    ['Raised', m.createdAt],
    ['Notification', m.notificationId],
    ['Source', source],
    ...Object.entries(m.details).map(([k, v]): [string, string] => [
      k,
      typeof v === 'string' ? v : JSON.stringify(v),
    ]),
  ];
  const text = `${m.body}\n\n${facts.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
  const html =
    `<p>${escapeHtml(m.body)}</p><table>` +
    facts
      .map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
      .join('') +
    '</table>';
  return { subject, text, html };
}

export function createEmailChannel(options: EmailChannelOptions): NotificationChannel {
  if (options.to.length === 0)
    throw new RangeError(`channel '${options.id}': email needs at least one recipient in smtp.to`);
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure,
    requireTLS: options.requireTls,
    auth: options.user ? { user: options.user, pass: options.password ?? '' } : undefined,
    tls: { rejectUnauthorized: options.rejectUnauthorized },
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    id: options.id,
    type: 'email',
    acceptsAcknowledge: false,
    async send(message: NotificationMessage): Promise<void> {
      const { subject, text, html } = renderEmail(message, options.source);
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: [...options.to],
          subject,
          text,
          html,
        });
        if (info.rejected.length > 0 && info.accepted.length === 0) {
          throw new Error(`every recipient was rejected: ${info.rejected.map(String).join(', ')}`);
        }
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(
          `email channel '${options.id}': ${typeof code === 'string' ? `${code} ` : ''}${reason}`,
          { cause: err },
        );
      }
    },
    async close(): Promise<void> {
      transport.close();
    },
  };
}
