/**
 * The pattern history a recommendation carries in the API (`Recommendation.patternHistory`): the
 * decided recommendations of the same equipment × issue type OTHER than itself. It counts what the
 * learning loop's pattern confidence counts (PgLearningStore.patternCounts: approved, executed and
 * failed as approved, rejected as rejected, over all stored history), so the card shows the
 * decisions the confidence was adapted from.
 *
 * One grouped query for any number of recommendations (a list page, one recommendation, a change):
 * per pattern the totals, plus its two newest decisions, its two newest rejections and the rows of
 * the recommendations asked about; leaving a recommendation's own row out then needs no further
 * query (the newest other decision is the newest or the second newest).
 */
import type pg from 'pg';
import type { PatternHistory, Recommendation } from '../domain/recommendation-view.ts';

type Queryable = Pick<pg.Pool, 'query'>;

interface DecidedEntry {
  id: string;
  rejected: boolean;
  /** timestamptz as jsonb renders it (ISO 8601 with the session's offset), or null. */
  at: string | null;
  note: string | null;
}

interface PatternRow {
  equipment_id: string;
  issue_type: string;
  approved: string;
  rejected: string;
  /** Newest first (decided_at DESC NULLS LAST, id DESC). */
  recent: DecidedEntry[];
}

/**
 * One window, newest decision first per pattern: `newest` ranks all decisions, `rejections_so_far`
 * the rejections (for a rejected row, its rank among them). One sort of the patterns' decided rows.
 */
const PATTERN_HISTORY_SQL = `
WITH wanted AS (
  SELECT DISTINCT equipment_id, issue_type FROM unnest($1::text[], $2::text[]) AS w (equipment_id, issue_type)
), decided AS (
  SELECT r.recommendation_id, r.equipment_id, r.issue_type, r.status = 'rejected' AS rejected,
         r.decided_at, r.operator_notes,
         row_number() OVER newest_first AS newest,
         count(*) FILTER (WHERE r.status = 'rejected') OVER newest_first AS rejections_so_far
    FROM agentic_hmi.agent_recommendations r
    JOIN wanted w ON w.equipment_id = r.equipment_id AND w.issue_type = r.issue_type
   WHERE r.status IN ('approved', 'executed', 'failed', 'rejected')
  WINDOW newest_first AS (PARTITION BY r.equipment_id, r.issue_type
                          ORDER BY r.decided_at DESC NULLS LAST, r.recommendation_id DESC
                          ROWS UNBOUNDED PRECEDING)
)
SELECT equipment_id, issue_type,
       count(*) FILTER (WHERE NOT rejected) AS approved,
       count(*) FILTER (WHERE rejected) AS rejected,
       COALESCE(
         jsonb_agg(jsonb_build_object('id', recommendation_id, 'rejected', rejected, 'at', decided_at, 'note', operator_notes)
                   ORDER BY newest)
           FILTER (WHERE newest <= 2 OR (rejected AND rejections_so_far <= 2) OR recommendation_id = ANY ($3::text[])),
         '[]'::jsonb) AS recent
  FROM decided
 GROUP BY equipment_id, issue_type`;

/** No earlier decision on the pattern. */
export const NO_PATTERN_HISTORY: PatternHistory = {
  approved: 0,
  rejected: 0,
  lastRejectionNote: null,
  lastDecidedAt: null,
};

const keyOf = (equipmentId: string, issueType: string): string => `${equipmentId}\u0000${issueType}`;

/** `row`'s history with recommendation `id`'s own decision (if it is one) left out. */
function historyWithout(id: string, row: PatternRow | undefined): PatternHistory {
  if (row === undefined) return NO_PATTERN_HISTORY;
  const own = row.recent.find((e) => e.id === id);
  const others = row.recent.filter((e) => e.id !== id);
  const newest = others[0];
  return {
    approved: Number(row.approved) - (own !== undefined && !own.rejected ? 1 : 0),
    rejected: Number(row.rejected) - (own?.rejected === true ? 1 : 0),
    lastRejectionNote: others.find((e) => e.rejected)?.note ?? null,
    lastDecidedAt: newest?.at ? new Date(newest.at).toISOString() : null,
  };
}

/** The pattern history of each recommendation, by id, in one query. */
export async function patternHistories(
  db: Queryable,
  recs: readonly Pick<Recommendation, 'id' | 'equipmentId' | 'issueType'>[],
): Promise<Map<string, PatternHistory>> {
  const out = new Map<string, PatternHistory>();
  if (recs.length === 0) return out;
  const { rows } = await db.query<PatternRow>(PATTERN_HISTORY_SQL, [
    recs.map((r) => r.equipmentId),
    recs.map((r) => r.issueType),
    recs.map((r) => r.id),
  ]);
  const byPattern = new Map(rows.map((r) => [keyOf(r.equipment_id, r.issue_type), r]));
  for (const r of recs) out.set(r.id, historyWithout(r.id, byPattern.get(keyOf(r.equipmentId, r.issueType))));
  return out;
}

/** `recs` with their `patternHistory` set (same order). */
export async function withPatternHistory(
  db: Queryable,
  recs: readonly Recommendation[],
): Promise<Recommendation[]> {
  const histories = await patternHistories(db, recs);
  return recs.map((r) => ({ ...r, patternHistory: histories.get(r.id) ?? NO_PATTERN_HISTORY }));
}

/** One recommendation with its `patternHistory` set. */
export async function withOnePatternHistory(db: Queryable, rec: Recommendation): Promise<Recommendation> {
  const [out] = await withPatternHistory(db, [rec]);
  return out ?? rec;
}
