/**
 * Reads of the change log (SSE resume), seq reservations for push-first critical alerts, its
 * pruning, and the operator notes the LLM advisor gets,
 * for pg-recommendation-store.ts.
 */
import type pg from 'pg';
import type { Change, Recommendation } from '../domain/recommendation-view.ts';

type Pool = Pick<pg.Pool, 'query'>;

export async function changesSince(pool: Pool, afterSeq: number, limit: number): Promise<Change[]> {
  const { rows } = await pool.query<{
    seq: string;
    change_type: 'recommendation' | 'critical_alert';
    payload: unknown;
  }>(
    'SELECT seq, change_type, payload FROM agentic_hmi.recommendation_changes WHERE seq > $1 ORDER BY seq LIMIT $2',
    [afterSeq, limit],
  );
  return rows.map((r) =>
    r.change_type === 'recommendation'
      ? { seq: Number(r.seq), type: 'recommendation', recommendation: r.payload as Recommendation }
      : { seq: Number(r.seq), type: 'critical_alert', alert: r.payload as NonNullable<Change['alert']> },
  );
}

/** `n` seqs of the change log's sequence, ascending, for changes pushed before they are written. */
export async function reserveChangeSeqs(pool: Pool, n: number): Promise<number[]> {
  const { rows } = await pool.query<{ seq: string }>(
    `SELECT nextval(pg_get_serial_sequence('agentic_hmi.recommendation_changes', 'seq')) AS seq FROM generate_series(1, $1)`,
    [n],
  );
  return rows.map((r) => Number(r.seq)).sort((x, y) => x - y);
}

/** Source time of the newest critical alert (undefined: none). */
export async function latestCriticalAlertMs(pool: Pool): Promise<number | undefined> {
  const { rows } = await pool.query<{ at: Date | null }>(
    'SELECT max(alert_timestamp) AS at FROM mining_operations.critical_alerts',
  );
  return rows[0]?.at ? rows[0].at.getTime() : undefined;
}

export async function pruneChanges(pool: Pool, beforeMs: number): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM agentic_hmi.recommendation_changes WHERE at < $1', [
    new Date(beforeMs),
  ]);
  return rowCount ?? 0;
}

export async function similarNotes(
  pool: Pool,
  equipmentId: string,
  issueType: string,
  limit: number,
): Promise<string[]> {
  const { rows } = await pool.query<{ operator_notes: string }>(
    `SELECT operator_notes FROM agentic_hmi.agent_recommendations WHERE equipment_id = $1 AND issue_type = $2 AND operator_notes IS NOT NULL
        ORDER BY decided_at DESC NULLS LAST LIMIT $3`,
    [equipmentId, issueType, limit],
  );
  return rows.map((r) => r.operator_notes);
}
