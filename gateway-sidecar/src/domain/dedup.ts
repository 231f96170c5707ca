/**
 * Recommendation identity (exactly once): one equipment + issue type + dedup-window bucket is one
 * recommendation. Buckets are aligned to the epoch so every process (and every replay) computes
 * the same key for the same anomaly time. The id is derived from the key, so a replayed anomaly
 * lands on the same row even before the database answers.
 */

const MS_PER_MINUTE = 60_000;

/** Start of the dedup window (epoch ms) that contains `tsMs`. Throws for a non-positive window. */
export function windowStartMs(tsMs: number, windowMinutes: number): number {
  if (!(windowMinutes > 0)) throw new RangeError(`windowMinutes must be positive, got ${windowMinutes}`);
  const windowMs = windowMinutes * MS_PER_MINUTE;
  return Math.floor(tsMs / windowMs) * windowMs;
}

/** `EQUIPMENT|issue_type|<window start ISO>`, e.g. `REACTOR_01|cooling_degradation|2026-01-01T10:05:00.000Z`. */
export function dedupKey(
  equipmentId: string,
  issueType: string,
  anomalyTsMs: number,
  windowMinutes: number,
): string {
  return `${equipmentId}|${issueType}|${new Date(windowStartMs(anomalyTsMs, windowMinutes)).toISOString()}`;
}

/**
 * Key of the n-th recommendation raised past rejections of the pattern in one window (n ≥ 1):
 * `<key>|reopen:1` past the rejected `<key>`, `<key>|reopen:2` past a rejected `reopen:1`.
 * Derived, so a replay of the same events after a restart finds the same row.
 */
export function reopenKey(baseKey: string, n: number): string {
  if (!(Number.isInteger(n) && n >= 1))
    throw new RangeError(`reopen number must be an integer ≥ 1, got ${n}`);
  return `${baseKey}|reopen:${n}`;
}

/** Key of the one flood summary per area and 10-minute window (the ISA-18.2 flood interval). */
export function floodSummaryKey(area: string, tsMs: number): string {
  return `area:${area}|flood_summary|${new Date(windowStartMs(tsMs, 10)).toISOString()}`;
}

/** FNV-1a over UTF-16 code units with a seed; two seeds give 64 bits for the id. */
function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Stable recommendation id for a dedup key: `rec-` + 16 hex digits. */
export function recommendationIdFor(key: string): string {
  const a = fnv1a(key, 0x811c9dc5).toString(16).padStart(8, '0');
  const b = fnv1a(key, 0x01234567).toString(16).padStart(8, '0');
  return `rec-${a}${b}`;
}
