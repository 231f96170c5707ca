/**
 * Pure rules for notifications that leave the HMI: which routes a trigger matches, whether quiet
 * hours suppress or delay it, when a repeat is a duplicate, when an unacknowledged notification
 * escalates, and how long a failed delivery waits before the next try. No I/O: time and randomness
 * come in as arguments. Local time uses `Intl.DateTimeFormat` for IANA zones and plain arithmetic
 * for fixed offsets ('+02:00'), because Node 20's Intl does not accept offset zone names.
 */
import type { Severity } from './detection.ts';

export type NotificationKind = 'critical_alert' | 'recommendation_pending' | 'drift_alert';
export const NOTIFICATION_KINDS: readonly NotificationKind[] = [
  'critical_alert',
  'recommendation_pending',
  'drift_alert',
];

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 1, medium: 2, high: 3, critical: 4 };

/** What happens to a notification raised inside quiet hours. */
export type QuietMode = 'suppress' | 'delay';

export interface QuietHours {
  /** Local start time 'HH:MM' (inclusive). */
  readonly start: string;
  /** Local end time 'HH:MM' (exclusive); earlier than start means the period crosses midnight. */
  readonly end: string;
  /** Local weekdays the period starts on, 0 = Sunday … 6 = Saturday; empty or absent = every day. */
  readonly days?: readonly number[];
  readonly mode: QuietMode;
  /** Triggers at or above this severity ignore quiet hours (e.g. 'critical' still pages at night). */
  readonly bypassAtSeverity?: Severity;
}

export interface RouteRule {
  readonly id: string;
  /** Plant areas this route covers; '*' covers every area. */
  readonly areas: readonly string[];
  readonly minSeverity: Severity;
  readonly kinds: readonly NotificationKind[];
  /** Channel ids to deliver to. */
  readonly channels: readonly string[];
  /** IANA zone ('Europe/Berlin') or fixed offset ('+02:00', '-05:30', 'UTC'). */
  readonly timeZone: string;
  readonly quietHours?: QuietHours;
}

/** The facts routing needs about one trigger. */
export interface RoutingInput {
  readonly kind: NotificationKind;
  readonly area: string;
  readonly severity: Severity;
}

export type RouteDecision =
  | {
      readonly routeId: string;
      readonly action: 'send';
      readonly channels: readonly string[];
      readonly notBeforeMs: number;
    }
  | {
      readonly routeId: string;
      readonly action: 'delay';
      readonly channels: readonly string[];
      readonly notBeforeMs: number;
    }
  | { readonly routeId: string; readonly action: 'suppress'; readonly channels: readonly string[] };

/** True when `severity` is at least `min`. */
export function isAtLeast(severity: Severity, min: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[min];
}

const OFFSET = /^([+-])(\d{2}):(\d{2})$/;
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes east of UTC for a fixed-offset zone name, or undefined for an IANA name. */
function fixedOffsetMinutes(timeZone: string): number | undefined {
  if (timeZone === 'UTC' || timeZone === 'Z') return 0;
  const m = OFFSET.exec(timeZone);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  return sign * (Number(m[2]) * 60 + Number(m[3]));
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** True when the zone is a valid IANA name or a fixed offset. Used by config validation. */
export function isValidTimeZone(timeZone: string): boolean {
  if (fixedOffsetMinutes(timeZone) !== undefined) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    // Intl throws RangeError for an unknown zone: that is the answer, not a failure.
    return false;
  }
}

/** True for 'HH:MM' in 00:00-23:59. */
export function isValidClockTime(value: string): boolean {
  return HHMM.test(value);
}

/** Local weekday (0 = Sunday) and minute of day of `nowMs` in `timeZone`. */
export function localTime(nowMs: number, timeZone: string): { weekday: number; minuteOfDay: number } {
  const offset = fixedOffsetMinutes(timeZone);
  if (offset !== undefined) {
    const local = new Date(nowMs + offset * 60_000);
    return { weekday: local.getUTCDay(), minuteOfDay: local.getUTCHours() * 60 + local.getUTCMinutes() };
  }
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, fmt);
  }
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const part of fmt.formatToParts(nowMs)) {
    if (part.type === 'weekday') weekday = WEEKDAYS[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { weekday, minuteOfDay: hour * 60 + minute };
}

function minutesOf(hhmm: string): number {
  const m = HHMM.exec(hhmm);
  if (!m) throw new RangeError(`time must be 'HH:MM', got '${hhmm}'`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * Minutes until the quiet period containing `nowMs` ends, or 0 when `nowMs` is outside it.
 * A period that crosses midnight belongs to the weekday it started on.
 */
export function quietMinutesRemaining(nowMs: number, quiet: QuietHours, timeZone: string): number {
  const { weekday, minuteOfDay } = localTime(nowMs, timeZone);
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const days = quiet.days && quiet.days.length > 0 ? quiet.days : undefined;
  const startsOn = (day: number): boolean => days === undefined || days.includes(day);
  if (start === end) return 0;
  if (start < end) {
    return minuteOfDay >= start && minuteOfDay < end && startsOn(weekday) ? end - minuteOfDay : 0;
  }
  // Crosses midnight: the evening part belongs to today, the morning part to yesterday.
  if (minuteOfDay >= start && startsOn(weekday)) return 1440 - minuteOfDay + end;
  if (minuteOfDay < end && startsOn((weekday + 6) % 7)) return end - minuteOfDay;
  return 0;
}

/**
 * Every route the trigger matches, with what to do now: send, delay until quiet hours end, or
 * suppress. A trigger matching no route yields an empty list (nobody is paged).
 */
export function routeNotification(
  input: RoutingInput,
  routes: readonly RouteRule[],
  nowMs: number,
): RouteDecision[] {
  const decisions: RouteDecision[] = [];
  for (const route of routes) {
    if (!route.kinds.includes(input.kind)) continue;
    if (!route.areas.includes('*') && !route.areas.includes(input.area)) continue;
    if (!isAtLeast(input.severity, route.minSeverity)) continue;
    const quiet = route.quietHours;
    const bypass = quiet?.bypassAtSeverity !== undefined && isAtLeast(input.severity, quiet.bypassAtSeverity);
    const remaining = quiet && !bypass ? quietMinutesRemaining(nowMs, quiet, route.timeZone) : 0;
    if (remaining === 0 || !quiet) {
      decisions.push({ routeId: route.id, action: 'send', channels: route.channels, notBeforeMs: nowMs });
    } else if (quiet.mode === 'suppress') {
      decisions.push({ routeId: route.id, action: 'suppress', channels: route.channels });
    } else {
      // Round down to the minute so "22:00-06:00" releases at 06:00:00 local, not 06:00:37.
      const releaseMs = Math.floor(nowMs / 60_000) * 60_000 + remaining * 60_000;
      decisions.push({
        routeId: route.id,
        action: 'delay',
        channels: route.channels,
        notBeforeMs: releaseMs,
      });
    }
  }
  return decisions;
}

/** Channels of several decisions, deduplicated, keeping the first occurrence's order. */
export function uniqueChannels(decisions: readonly RouteDecision[]): string[] {
  return [...new Set(decisions.flatMap((d) => d.channels))];
}

/**
 * True when a trigger with the same dedup key was notified less than `windowMinutes` ago, so this
 * one is a repeat: counted on the existing notification, not sent again.
 */
export function isDuplicate(
  lastNotifiedAtMs: number | undefined,
  nowMs: number,
  windowMinutes: number,
): boolean {
  return lastNotifiedAtMs !== undefined && nowMs - lastNotifiedAtMs < windowMinutes * 60_000;
}

export interface EscalationLevel {
  /** Minutes without acknowledgement after the previous level's notification. */
  readonly afterMinutes: number;
  /** Channels to notify at this level; empty = re-notify the original channels. */
  readonly channels: readonly string[];
}

export interface EscalationState {
  /** 0 = only the first notification was sent; n = level n (1-based into `levels`) was sent. */
  readonly level: number;
  /** When the most recent level (or the first notification) was sent. */
  readonly lastNotifiedAtMs: number;
  readonly acknowledged: boolean;
}

export type EscalationStep =
  | { readonly due: false }
  | { readonly due: true; readonly level: number; readonly channels: readonly string[] | 'original' };

/**
 * The next escalation step, if due: level n+1 when nobody acknowledged within its `afterMinutes`.
 * After the last level nothing more happens: to re-notify several times, list several levels
 * with empty `channels`. Pages end at the last configured level by design.
 */
export function nextEscalation(
  state: EscalationState,
  levels: readonly EscalationLevel[],
  nowMs: number,
): EscalationStep {
  if (state.acknowledged) return { due: false };
  const next = levels[state.level];
  if (!next) return { due: false };
  if (nowMs - state.lastNotifiedAtMs < next.afterMinutes * 60_000) return { due: false };
  return {
    due: true,
    level: state.level + 1,
    channels: next.channels.length === 0 ? 'original' : next.channels,
  };
}

export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
}

/**
 * Delay before retry number `attempt` (1 = after the first failure): exponential growth capped at
 * `maxDelayMs`, with "full jitter" in [50 %, 100 %] of it so many failed deliveries do not retry in
 * lock-step. `random01` is a number in [0, 1).
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random01: number): number {
  const exp = policy.baseDelayMs * policy.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxDelayMs, exp);
  const r = Math.min(Math.max(random01, 0), 1);
  return Math.round(capped * (0.5 + 0.5 * r));
}
