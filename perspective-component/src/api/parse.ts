/**
 * Checks what arrives from the wire before the store trusts it. Hand-written instead of zod to
 * keep the bundle small; it checks the fields the views rely on and names the first bad one.
 */
import { CLIENT_ERRORS, TransportError, type ListResult } from './transport.ts';
import { SEVERITIES, STATUSES, type Change, type CriticalAlert, type Recommendation } from './types.ts';

type Obj = Record<string, unknown>;

function bad(what: string): never {
  throw new TransportError(CLIENT_ERRORS.BAD_RESPONSE, `unexpected API data: ${what}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseRecommendation(v: unknown): Recommendation {
  if (!isObj(v)) return bad('recommendation is not an object');
  for (const key of ['id', 'equipmentId', 'issueType', 'text', 'createdAt'] as const) {
    if (typeof v[key] !== 'string') bad(`recommendation.${key} must be a string`);
  }
  for (const key of ['confidence', 'version', 'occurrenceCount'] as const) {
    if (typeof v[key] !== 'number') bad(`recommendation.${key} must be a number`);
  }
  if (!SEVERITIES.includes(v.severity as never)) bad(`recommendation.severity '${String(v.severity)}'`);
  if (!STATUSES.includes(v.status as never)) bad(`recommendation.status '${String(v.status)}'`);
  if (!Array.isArray(v.explanation)) bad('recommendation.explanation must be an array');
  if (v.proposedAction !== null && v.proposedAction !== undefined && !isObj(v.proposedAction)) {
    bad('recommendation.proposedAction must be an object or null');
  }
  if (v.patternHistory !== undefined) parsePatternHistory(v.patternHistory);
  for (const key of ['reopenedFrom', 'reopenReason'] as const) {
    if (v[key] !== undefined && v[key] !== null && typeof v[key] !== 'string')
      bad(`recommendation.${key} must be a string or null`);
  }
  return v as unknown as Recommendation;
}

/** `recommendation.patternHistory` when present (an older sidecar leaves it out). */
function parsePatternHistory(h: unknown): void {
  const at = 'recommendation.patternHistory';
  if (!isObj(h)) return bad(`${at} must be an object`);
  for (const key of ['approved', 'rejected'] as const) {
    const n = h[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      bad(`${at}.${key} must be a non-negative integer, got ${JSON.stringify(n)}`);
  }
  for (const key of ['lastRejectionNote', 'lastDecidedAt'] as const) {
    if (h[key] !== null && typeof h[key] !== 'string') bad(`${at}.${key} must be a string or null`);
  }
}

export function parseListResult(v: unknown): ListResult {
  if (!isObj(v) || !Array.isArray(v.items)) return bad('list answer has no items array');
  const items = v.items.map(parseRecommendation);
  const total = typeof v.total === 'number' ? v.total : items.length;
  return { items, total };
}

/** One critical alert (GET /api/critical-alerts item or a critical_alert change's alert). */
export function parseCriticalAlert(v: unknown): CriticalAlert {
  if (!isObj(v)) return bad('critical alert is not an object');
  for (const k of ['id', 'equipmentId', 'message', 'at'] as const)
    if (typeof v[k] !== 'string') bad(`critical alert has no string '${k}'`);
  if (Number.isNaN(Date.parse(v.at as string))) bad(`critical alert 'at' is not a time: '${String(v.at)}'`);
  return v as unknown as CriticalAlert;
}

/** The answer of GET /api/critical-alerts: `{ items: CriticalAlert[] }`. */
export function parseCriticalAlerts(v: unknown): CriticalAlert[] {
  if (!isObj(v) || !Array.isArray(v.items)) return bad('critical-alerts answer has no items array');
  return v.items.map(parseCriticalAlert);
}

/** A change event from SSE or the delegate; a bare recommendation is accepted as a change. */
export function parseChange(v: unknown): Change {
  if (!isObj(v)) return bad('change is not an object');
  if (v.type === 'recommendation' || v.type === 'critical_alert') {
    const seq = typeof v.seq === 'number' ? v.seq : 0;
    if (v.type === 'recommendation')
      return { seq, type: 'recommendation', recommendation: parseRecommendation(v.recommendation) };
    if (!isObj(v.alert)) bad('critical_alert change has no alert');
    return { seq, type: 'critical_alert', alert: v.alert as unknown as NonNullable<Change['alert']> };
  }
  if (typeof v.id === 'string' && typeof v.status === 'string') {
    return { seq: 0, type: 'recommendation', recommendation: parseRecommendation(v) };
  }
  return bad(`unknown change type '${String(v.type)}'`);
}
