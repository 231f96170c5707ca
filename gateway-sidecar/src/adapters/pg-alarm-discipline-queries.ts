/**
 * Shelves and operating modes in Postgres (migration 020), for pg-recommendation-store.ts. Shelves
 * end by time (`until`) or early (`unshelved_at`); modes keep the last value per equipment.
 * `disciplineHistory` reads back what flood control and the KPIs need after a restart from the
 * rows that are there anyway (no table of its own).
 */
import type pg from 'pg';
import { DISCIPLINE_HISTORY_MS, type DisciplineHistory, type Shelf } from '../domain/alarm-discipline.ts';
import { toShelf, type ShelfRow } from './pg-recommendation-rows.ts';

type Pool = Pick<pg.Pool, 'query'>;

export async function addShelf(pool: Pool, s: Omit<Shelf, 'id'>): Promise<Shelf> {
  const { rows } = await pool.query<ShelfRow>(
    `INSERT INTO agentic_hmi.alarm_shelves (equipment_id, issue_type, reason, shelved_by, shelved_at, until)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING shelf_id, equipment_id, issue_type, reason, shelved_by, shelved_at, until`,
    [s.equipmentId, s.issueType, s.reason, s.by, new Date(s.fromMs), new Date(s.untilMs)],
  );
  return toShelf(rows[0] as ShelfRow);
}

export async function endShelf(pool: Pool, id: number, by: string, nowMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE agentic_hmi.alarm_shelves SET unshelved_by = $2, unshelved_at = $3 WHERE shelf_id = $1 AND unshelved_at IS NULL AND until > $3',
    [id, by, new Date(nowMs)],
  );
  return (rowCount ?? 0) === 1;
}

export async function activeShelves(pool: Pool, nowMs: number): Promise<Shelf[]> {
  const { rows } = await pool.query<ShelfRow>(
    `SELECT shelf_id, equipment_id, issue_type, reason, shelved_by, shelved_at, until FROM agentic_hmi.alarm_shelves
        WHERE unshelved_at IS NULL AND until > $1 ORDER BY shelf_id`,
    [new Date(nowMs)],
  );
  return rows.map(toShelf);
}

export async function setMode(
  pool: Pool,
  equipmentId: string,
  mode: string,
  source: 'tag' | 'api',
  by: string,
  nowMs: number,
): Promise<void> {
  await pool.query(
    `INSERT INTO agentic_hmi.equipment_modes (equipment_id, mode, source, set_by, set_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (equipment_id) DO UPDATE SET mode = EXCLUDED.mode, source = EXCLUDED.source, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at`,
    [equipmentId, mode, source, by, new Date(nowMs)],
  );
}

export async function modes(pool: Pool): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ equipment_id: string; mode: string }>(
    'SELECT equipment_id, mode FROM agentic_hmi.equipment_modes',
  );
  return new Map(rows.map((r) => [r.equipment_id, r.mode]));
}

/**
 * Recommendations created, flood summaries and operator decisions in the DISCIPLINE_HISTORY_MS
 * (24 h) up to `nowMs`: the
 * recommendation's `created_timestamp` is when flood control admitted it (or, for a summary, when
 * its window first overflowed); decisions come from the audit trail.
 */
export async function disciplineHistory(pool: Pool, nowMs: number): Promise<DisciplineHistory> {
  const since = new Date(nowMs - DISCIPLINE_HISTORY_MS);
  const now = new Date(nowMs);
  const recs = await pool.query<{
    area: string;
    equipment_id: string;
    issue_type: string;
    created_timestamp: Date;
  }>(
    `SELECT area, equipment_id, issue_type, created_timestamp FROM agentic_hmi.agent_recommendations
        WHERE created_timestamp >= $1 AND created_timestamp <= $2 ORDER BY created_timestamp`,
    [since, now],
  );
  const decisions = await pool.query<{ actor: string; at: Date }>(
    `SELECT actor, at FROM agentic_hmi.recommendation_audit
        WHERE action = ANY($3::text[]) AND at >= $1 AND at <= $2 ORDER BY at`,
    [since, now, ['approve', 'approval_recorded', 'defer', 'reject']],
  );
  const raised: { area: string; pattern: string; atMs: number }[] = [];
  const floodSummariesAtMs: number[] = [];
  for (const r of recs.rows) {
    if (r.issue_type === 'flood_summary') floodSummariesAtMs.push(r.created_timestamp.getTime());
    else
      raised.push({
        area: r.area,
        pattern: `${r.equipment_id}|${r.issue_type}`,
        atMs: r.created_timestamp.getTime(),
      });
  }
  return {
    raised,
    floodSummariesAtMs,
    decisions: decisions.rows.map((d) => ({ user: d.actor, atMs: d.at.getTime() })),
  };
}
