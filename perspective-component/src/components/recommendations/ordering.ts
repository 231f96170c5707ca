/** Pure ordering and filtering of recommendations (no MobX, no DOM). */
import type { Recommendation, RecommendationStatus, Severity } from '../../api/types.ts';

export interface FilterState {
  equipmentId: string;
  severity: Severity[];
  status: RecommendationStatus[];
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Most severe first; within a severity the newest first; id breaks ties so the order is stable. */
export function compareRecommendations(a: Recommendation, b: Recommendation): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    Date.parse(b.createdAt) - Date.parse(a.createdAt) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export function matchesFilter(r: Recommendation, f: FilterState): boolean {
  return (
    (!f.equipmentId || r.equipmentId === f.equipmentId) &&
    (f.severity.length === 0 || f.severity.includes(r.severity)) &&
    (f.status.length === 0 || f.status.includes(r.status))
  );
}

/** "just now", "4 min", "2 h 5 min", "3 d": compact and readable by screen readers. */
export function formatAge(fromIso: string, nowMs: number): string {
  const ms = Math.max(0, nowMs - Date.parse(fromIso));
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d`;
}
