/**
 * Statements pg-recommendation-store.ts runs inside its transactions: the audit row, the change-log
 * row (its `seq` is the SSE event id) and, for an upsert that updated nothing, whether the key's
 * row is a rejected one holding back new events (domain/reopen.ts).
 */
import type pg from 'pg';
import type { Change, Recommendation } from '../domain/recommendation-view.ts';
import type { TransitionPatch, UpsertOutcome } from '../ports.ts';
import { REJECTED_COLUMNS, toRejectedSnapshot, type RejectedRow } from './pg-recommendation-rows.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;

export async function appendChange(c: Queryable, rec: Recommendation): Promise<Change> {
  const { rows } = await c.query<{ seq: string }>(
    `INSERT INTO agentic_hmi.recommendation_changes (change_type, subject_id, payload) VALUES ('recommendation', $1, $2) RETURNING seq`,
    [rec.id, JSON.stringify(rec)],
  );
  return { seq: Number(rows[0]?.seq), type: 'recommendation', recommendation: rec };
}

export async function audit(
  c: Queryable,
  id: string,
  from: string | null,
  to: string | null,
  a: TransitionPatch['audit'],
  nowMs: number,
): Promise<void> {
  await c.query(
    `INSERT INTO agentic_hmi.recommendation_audit
       (recommendation_id, action, actor, actor_roles, from_status, to_status, before_value, after_value, note, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      id,
      a.action,
      a.actor,
      [...a.actorRoles],
      from,
      to,
      JSON.stringify(a.before ?? null),
      JSON.stringify(a.after ?? null),
      a.note,
      new Date(nowMs),
    ],
  );
}

/** No row came back from the upsert: a replay of known events (unchanged), or new events held by a rejection. */
export async function notUpdated(c: Queryable, key: string, ids: readonly string[]): Promise<UpsertOutcome> {
  const { rows } = await c.query<RejectedRow & { held: boolean }>(
    `SELECT ${REJECTED_COLUMNS}, (status = 'rejected' AND NOT ($2::text[] <@ anomaly_event_ids)) AS held
       FROM agentic_hmi.agent_recommendations WHERE dedup_key = $1`,
    [key, ids],
  );
  const row = rows[0];
  if (row === undefined || !row.held) return { outcome: 'unchanged' };
  return { outcome: 'held', rejected: toRejectedSnapshot(row) };
}

/** On the rejected row: a later, different-looking anomaly of its pattern was raised as `newId`. */
export function auditReopened(
  c: Queryable,
  reopen: { readonly fromId: string; readonly reason: string },
  newId: string,
  nowMs: number,
): Promise<void> {
  return audit(
    c,
    reopen.fromId,
    'rejected',
    'rejected',
    {
      action: 'reopened',
      actor: 'system',
      actorRoles: [],
      note: null,
      before: null,
      after: { reopenedAs: newId, reason: reopen.reason },
    },
    nowMs,
  );
}
