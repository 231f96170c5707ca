/**
 * Statements pg-recommendation-store.ts runs inside its transactions: the audit row, the change-log
 * row (its `seq` is the SSE event id), for an upsert that updated nothing whether the key's row is
 * a rejected one holding back new events (domain/reopen.ts), and for a decision the changes that
 * bring the new pattern history to the other open recommendations of its pattern.
 */
import type pg from 'pg';
import type { Change, Recommendation } from '../domain/recommendation-view.ts';
import type { TransitionPatch, UpsertOutcome } from '../ports.ts';
import { withPatternHistory } from './pg-pattern-history.ts';
import {
  REC_COLUMNS,
  REJECTED_COLUMNS,
  toRecommendation,
  toRejectedSnapshot,
  type RecRow,
  type RejectedRow,
} from './pg-recommendation-rows.ts';

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

/**
 * At most this many open siblings get a change per decision (the newest by creation): the
 * statements are batched (one SELECT, one history query, one INSERT whatever the count), so the cap
 * bounds what a decision writes and pushes (payload bytes, change-log rows, SSE queue entries per
 * client, sseMaxQueue 1,000 by default), not the number of round trips. Older open siblings beyond
 * it see the new history on their next GET (the panel reloads its list on reconnect).
 */
export const MAX_SIBLING_CHANGES = 100;

/** Statuses whose recommendations count in a pattern's history (pg-pattern-history.ts). */
const COUNTED: ReadonlySet<string> = new Set(['approved', 'executed', 'failed', 'rejected']);

/** True when going `from` → `to` changes the pattern history the other recommendations carry. */
export function changesPatternHistory(from: string, to: string): boolean {
  return COUNTED.has(to) && !COUNTED.has(from);
}

/**
 * Serialises the decisions of one pattern (equipment × issue type): a transaction-scoped advisory
 * lock, taken BEFORE the decided row is locked. Two decisions of a pattern then never hold each
 * other's rows while waiting, so locking the siblings (FOR UPDATE, below) cannot deadlock, and the
 * second one sees the first one's decision in the history it logs. Keys: namespace 727411050 (the
 * two-int form, apart from the migration and retention locks), hashtext of the pattern; a hash
 * collision only serialises two unrelated patterns' decisions.
 */
export async function lockPatternOf(c: Queryable, id: string): Promise<void> {
  await c.query(
    `SELECT pg_advisory_xact_lock(727411050, hashtext(equipment_id || chr(31) || issue_type))
       FROM agentic_hmi.agent_recommendations WHERE recommendation_id = $1`,
    [id],
  );
}

/**
 * In the decision's transaction, as its last statement: the decision's change and, when `fanOut`,
 * one change per other open (pending, deferred) recommendation of `decided`'s pattern, newest
 * first, at most `cap`, carrying its row as it is now (locked, so a concurrent upsert or tick
 * cannot log an older state after it) with the pattern history this transaction sees.
 *
 * All of them go in ONE insert at the end, so their seqs are taken right before COMMIT, as every
 * other change's are: live SSE clients skip a change whose seq is below one already sent (sse.ts),
 * so a seq taken early in this longer transaction would widen the window in which another
 * transaction, committing and publishing first with a higher seq, hides it from them (resume is
 * not affected). Rows are inserted in array order: the decision gets the lowest seq, the siblings
 * follow in ascending seq.
 */
export async function appendDecisionChanges(
  c: Queryable,
  decided: Recommendation,
  fanOut: boolean,
  cap: number = MAX_SIBLING_CHANGES,
): Promise<{ change: Change; siblings: Change[] }> {
  let siblings: Recommendation[] = [];
  if (fanOut) {
    const { rows } = await c.query<RecRow>(
      `SELECT ${REC_COLUMNS} FROM agentic_hmi.agent_recommendations
        WHERE equipment_id = $1 AND issue_type = $2 AND status IN ('pending', 'deferred') AND recommendation_id <> $3
        ORDER BY created_timestamp DESC, recommendation_id
        LIMIT $4
          FOR UPDATE`,
      [decided.equipmentId, decided.issueType, decided.id, cap],
    );
    siblings = rows.length === 0 ? [] : await withPatternHistory(c, rows.map(toRecommendation));
  }
  const all = [decided, ...siblings];
  const logged = await c.query<{ seq: string; subject_id: string }>(
    `INSERT INTO agentic_hmi.recommendation_changes (change_type, subject_id, payload)
     SELECT 'recommendation', s.id, s.payload
       FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS s (id, payload, n)
      ORDER BY s.n
     RETURNING seq, subject_id`,
    [all.map((r) => r.id), all.map((r) => JSON.stringify(r))],
  );
  const seqOf = new Map(logged.rows.map((r) => [r.subject_id, Number(r.seq)]));
  const changes = all.map((r): Change => ({
    seq: seqOf.get(r.id) as number,
    type: 'recommendation',
    recommendation: r,
  }));
  const [change, ...rest] = changes as [Change, ...Change[]];
  return { change, siblings: rest };
}
