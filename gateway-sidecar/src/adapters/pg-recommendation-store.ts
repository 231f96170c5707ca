/**
 * RecommendationStore on Postgres / Lakebase (migrations 001 + 020). Each change to a
 * recommendation commits together with its audit row and its change-log row, so the SSE stream,
 * the audit and the table can never disagree. Upserts are keyed by dedup_key and are no-ops when
 * every anomaly event id is already recorded (replay after a crash changes nothing). Every
 * recommendation it returns or logs carries its pattern history (pg-pattern-history.ts), read in
 * the transaction of the change.
 */
import type pg from 'pg';
import type { DisciplineHistory, Shelf } from '../domain/alarm-discipline.ts';
import { alertView, type CriticalAlertCandidate } from '../domain/critical.ts';
import type {
  AuditEntry,
  Change,
  ListFilter,
  Recommendation,
  RecommendationStatus,
} from '../domain/recommendation-view.ts';
import type {
  NewRecommendation,
  RecommendationStore,
  TransitionPatch,
  UpsertOutcome,
  WriteRecord,
} from '../ports.ts';
import { ERRORS, SidecarError } from '../errors.ts';
import {
  AUDIT_COLUMNS,
  REC_COLUMNS,
  toAudit,
  toRecommendation,
  type AuditRow,
  type RecRow,
} from './pg-recommendation-rows.ts';
import * as q from './pg-alarm-discipline-queries.ts';
import * as c from './pg-recommendation-changes.ts';
import { withOnePatternHistory, withPatternHistory } from './pg-pattern-history.ts';
import { inTransaction } from './pg-pool.ts';
import {
  appendChange,
  appendDecisionChanges,
  audit,
  auditReopened,
  changesPatternHistory,
  lockPatternOf,
  notUpdated,
} from './pg-recommendation-log.ts';

const T = 'agentic_hmi.agent_recommendations';
const SEVERITY_RANK = `CASE %s WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END`;

type Queryable = Pick<pg.PoolClient, 'query'>;
type Plan = (current: Recommendation) => TransitionPatch;
type Done = { recommendation: Recommendation; change: Change };
type Patched = { recommendation: Recommendation; from: RecommendationStatus };

export class PgRecommendationStore implements RecommendationStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, fn);
  }

  async upsert(r: NewRecommendation): Promise<UpsertOutcome> {
    const ids = [...new Set(r.eventIds)];
    const now = new Date(r.nowMs);
    return this.#tx(async (c) => {
      const { rows } = await c.query<RecRow & { inserted: boolean }>(
        `INSERT INTO ${T} AS r
           (recommendation_id, dedup_key, equipment_id, area, issue_type, severity, anomaly_score, confidence_score,
            recommendation_text, explanation, proposed_action, status, created_timestamp, anomaly_timestamp,
            last_seen_timestamp, occurrence_count, max_anomaly_score, anomaly_event_ids, grouped_items,
            top_tags, reopened_from, reopen_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13, $12, cardinality($14::text[]), $7, $14, $15,
                 $16, $17, $18)
         ON CONFLICT (dedup_key) DO UPDATE SET
           occurrence_count = r.occurrence_count
             + (SELECT count(*) FROM unnest(EXCLUDED.anomaly_event_ids) e WHERE NOT (e = ANY (r.anomaly_event_ids)))::int,
           anomaly_event_ids = r.anomaly_event_ids
             || ARRAY(SELECT e FROM unnest(EXCLUDED.anomaly_event_ids) e WHERE NOT (e = ANY (r.anomaly_event_ids))),
           last_seen_timestamp = GREATEST(r.last_seen_timestamp, EXCLUDED.last_seen_timestamp),
           max_anomaly_score = GREATEST(r.max_anomaly_score, EXCLUDED.max_anomaly_score),
           confidence_score = GREATEST(r.confidence_score, EXCLUDED.confidence_score),
           severity = CASE WHEN ${SEVERITY_RANK.replace('%s', 'EXCLUDED.severity')} > ${SEVERITY_RANK.replace('%s', 'r.severity')}
                           THEN EXCLUDED.severity ELSE r.severity END,
           grouped_items = r.grouped_items || EXCLUDED.grouped_items,
           top_tags = r.top_tags || ARRAY(SELECT t FROM unnest(EXCLUDED.top_tags) t WHERE NOT (t = ANY (r.top_tags)))
         WHERE NOT (EXCLUDED.anomaly_event_ids <@ r.anomaly_event_ids) AND (r.status <> 'rejected' OR $19::boolean)
         RETURNING ${REC_COLUMNS}, (xmax = 0) AS inserted`,
        [
          r.id,
          r.dedupKey,
          r.equipmentId,
          r.area,
          r.issueType,
          r.severity,
          r.anomalyScore,
          r.confidence,
          r.text,
          JSON.stringify(r.explanation),
          r.proposedAction === null ? null : JSON.stringify(r.proposedAction),
          now,
          new Date(r.anomalyAtMs),
          ids,
          JSON.stringify(r.groupedItems),
          r.explanation[0] === undefined ? [] : [r.explanation[0].tagPath],
          r.reopen?.fromId ?? null,
          r.reopen?.reason ?? null,
          r.intoRejected === true,
        ],
      );
      const row = rows[0];
      if (row === undefined) return notUpdated(c, r.dedupKey, ids);
      const rec = await withOnePatternHistory(c, toRecommendation(row));
      await c.query(
        `INSERT INTO mining_operations.ai_recommendations_gold
           (recommendation_id, equipment_id, issue_type, severity, anomaly_score, confidence_score, recommendation_text, created_timestamp)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (recommendation_id) DO UPDATE SET anomaly_score = GREATEST(ai_recommendations_gold.anomaly_score, EXCLUDED.anomaly_score),
           severity = EXCLUDED.severity, confidence_score = EXCLUDED.confidence_score`,
        [
          rec.id,
          rec.equipmentId,
          rec.issueType,
          rec.severity,
          rec.maxAnomalyScore,
          rec.confidence,
          rec.text,
          new Date(rec.createdAt),
        ],
      );
      if (row.inserted) {
        await audit(
          c,
          rec.id,
          null,
          'pending',
          {
            action: 'created',
            actor: 'system',
            actorRoles: [],
            note: null,
            before: null,
            after: {
              dedupKey: r.dedupKey,
              eventIds: ids.length,
              ...(r.reopen ? { reopenedFrom: r.reopen.fromId, reason: r.reopen.reason } : {}),
            },
          },
          r.nowMs,
        );
        if (r.reopen) await auditReopened(c, r.reopen, rec.id, r.nowMs);
      }
      const change = await appendChange(c, rec);
      return { outcome: row.inserted ? 'inserted' : 'updated', recommendation: rec, change };
    });
  }

  async recordedEventIds(dedupKeys: readonly string[], eventIds: readonly string[]): Promise<string[]> {
    const { rows } = await this.#pool.query<{ e: string }>(
      `SELECT DISTINCT e FROM ${T}, unnest(anomaly_event_ids) e WHERE dedup_key = ANY ($1) AND e = ANY ($2)`,
      [dedupKeys, eventIds],
    );
    return rows.map((r) => r.e);
  }

  async exists(dedupKey: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(`SELECT 1 FROM ${T} WHERE dedup_key = $1`, [dedupKey]);
    return (rowCount ?? 0) > 0;
  }

  async list(f: ListFilter): Promise<{ items: Recommendation[]; total: number }> {
    const where = `($1::text[] IS NULL OR status = ANY ($1)) AND ($2::text IS NULL OR equipment_id = $2) AND ($3::text[] IS NULL OR severity = ANY ($3))`;
    const args = [
      f.status && f.status.length > 0 ? [...f.status] : null,
      f.equipmentId ?? null,
      f.severity && f.severity.length > 0 ? [...f.severity] : null,
    ];
    const [items, total] = await Promise.all([
      this.#pool.query<RecRow>(
        `SELECT ${REC_COLUMNS} FROM ${T} WHERE ${where} ORDER BY created_timestamp DESC, recommendation_id LIMIT $4 OFFSET $5`,
        [...args, f.limit, f.offset],
      ),
      this.#pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${T} WHERE ${where}`, args),
    ]);
    // Pattern history: one more query for the whole page, not one per recommendation.
    const page = await withPatternHistory(this.#pool, items.rows.map(toRecommendation));
    return { items: page, total: Number(total.rows[0]?.n ?? 0) };
  }

  async get(id: string): Promise<{ recommendation: Recommendation; history: AuditEntry[] } | undefined> {
    const { rows } = await this.#pool.query<RecRow>(
      `SELECT ${REC_COLUMNS} FROM ${T} WHERE recommendation_id = $1`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const [audit, recommendation] = await Promise.all([
      this.#pool.query<AuditRow>(
        `SELECT ${AUDIT_COLUMNS} FROM agentic_hmi.recommendation_audit WHERE recommendation_id = $1 ORDER BY audit_id`,
        [id],
      ),
      withOnePatternHistory(this.#pool, toRecommendation(row)),
    ]);
    return { recommendation, history: audit.rows.map(toAudit) };
  }

  /** The transition without its change-log row (the caller logs it): the updated row and the status it left. */
  async #patch(c: Queryable, id: string, nowMs: number, plan: Plan): Promise<Patched> {
    const { rows } = await c.query<RecRow>(
      `SELECT ${REC_COLUMNS} FROM ${T} WHERE recommendation_id = $1 FOR UPDATE`,
      [id],
    );
    const row = rows[0];
    if (row === undefined)
      throw new SidecarError(ERRORS.API_NOT_FOUND, `recommendation '${id}' does not exist`);
    const current = toRecommendation(row);
    const p = plan(current);
    const decided = p.decidedBy !== undefined;
    const upd = await c.query<RecRow>(
      `UPDATE ${T} SET status = $2,
              version = version + $3,
              approvals = COALESCE($4::jsonb, approvals),
              deferred_until = CASE WHEN $5::boolean THEN $6::timestamptz ELSE deferred_until END,
              decided_by = CASE WHEN $7::boolean THEN $8 ELSE decided_by END,
              decided_at = CASE WHEN $7::boolean THEN $9::timestamptz ELSE decided_at END,
              decided_severity = CASE WHEN $7::boolean THEN severity ELSE decided_severity END,
              decided_max_score = CASE WHEN $7::boolean THEN max_anomaly_score ELSE decided_max_score END,
              decided_top_tags = CASE WHEN $7::boolean THEN top_tags ELSE decided_top_tags END,
              operator_notes = COALESCE($10, operator_notes),
              write_result = COALESCE($11::jsonb, write_result),
              revert_result = COALESCE($12::jsonb, revert_result),
              recommendation_text = COALESCE($13, recommendation_text)
        WHERE recommendation_id = $1 AND version = $14
        RETURNING ${REC_COLUMNS}`,
      [
        id,
        p.toStatus,
        p.bumpVersion ? 1 : 0,
        p.approvals === undefined
          ? null
          : JSON.stringify(p.approvals.map((a) => ({ user: a.user, at: new Date(a.atMs).toISOString() }))),
        p.deferredUntilMs !== undefined,
        p.deferredUntilMs === undefined || p.deferredUntilMs === null ? null : new Date(p.deferredUntilMs),
        decided,
        p.decidedBy ?? null,
        new Date(nowMs),
        p.operatorNote ?? null,
        p.writeResult === undefined ? null : JSON.stringify(p.writeResult),
        p.revertResult === undefined ? null : JSON.stringify(p.revertResult),
        p.text ?? null,
        current.version,
      ],
    );
    const updated = upd.rows[0];
    // The row is locked, so this only fails if the lock was not honoured; treat it as a conflict.
    if (updated === undefined)
      throw new SidecarError(ERRORS.API_CONFLICT, `recommendation '${id}' changed concurrently`);
    const rec = await withOnePatternHistory(c, toRecommendation(updated));
    await audit(c, id, current.status, rec.status, p.audit, nowMs);
    if (p.text !== undefined && p.text !== current.text) {
      await c.query(
        'UPDATE mining_operations.ai_recommendations_gold SET recommendation_text = $2 WHERE recommendation_id = $1',
        [id, p.text],
      );
    }
    return { recommendation: rec, from: current.status };
  }

  async #applyPatch(c: Queryable, id: string, nowMs: number, plan: Plan): Promise<Done> {
    const { recommendation } = await this.#patch(c, id, nowMs, plan);
    return { recommendation, change: await appendChange(c, recommendation) };
  }

  transition(
    id: string,
    nowMs: number,
    plan: (current: Recommendation) => TransitionPatch,
  ): Promise<{ recommendation: Recommendation; change: Change }> {
    return this.#tx((c) => this.#applyPatch(c, id, nowMs, plan));
  }

  /**
   * An operator's decision (app/decision.ts DecisionStore): the transition, and when it changes
   * the pattern's history (now approved or rejected), one change per other open recommendation of
   * the pattern, all in one transaction (pg-recommendation-log.ts appendDecisionChanges): they
   * commit, and reach the log and SSE resume, together with the decision or not at all.
   */
  decide(id: string, nowMs: number, plan: Plan): Promise<Done & { siblings: Change[] }> {
    return this.#tx(async (c) => {
      await lockPatternOf(c, id);
      const { recommendation, from } = await this.#patch(c, id, nowMs, plan);
      const fanOut = changesPatternHistory(from, recommendation.status);
      return { recommendation, ...(await appendDecisionChanges(c, recommendation, fanOut)) };
    });
  }

  async claimWrite(
    id: string,
    purpose: 'apply' | 'revert',
    requiredStatus: RecommendationStatus,
    tagPath: string,
    actor: string,
    nowMs: number,
  ): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `INSERT INTO agentic_hmi.recommendation_writes (recommendation_id, purpose, tag_path, claimed_by, claimed_at)
       SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM ${T} WHERE recommendation_id = $1 AND status = $6)
       ON CONFLICT (recommendation_id, purpose) DO NOTHING`,
      [id, purpose, tagPath, actor, new Date(nowMs), requiredStatus],
    );
    return (rowCount ?? 0) === 1;
  }

  finishWrite(
    id: string,
    purpose: 'apply' | 'revert',
    w: WriteRecord,
    nowMs: number,
    plan: (current: Recommendation) => TransitionPatch,
  ): Promise<{ recommendation: Recommendation; change: Change }> {
    return this.#tx(async (c) => {
      await c.query(
        `UPDATE agentic_hmi.recommendation_writes SET live_value = $3, target_value = $4, read_back = $5, ok = $6, reason = $7, finished_at = $8
          WHERE recommendation_id = $1 AND purpose = $2`,
        [id, purpose, w.liveValue, w.targetValue, w.readBack, w.ok, w.reason, new Date(nowMs)],
      );
      return this.#applyPatch(c, id, nowMs, plan);
    });
  }

  async releaseClaim(id: string, purpose: 'apply' | 'revert'): Promise<void> {
    await this.#pool.query(
      'DELETE FROM agentic_hmi.recommendation_writes WHERE recommendation_id = $1 AND purpose = $2',
      [id, purpose],
    );
  }

  async unfinishedWrites(): Promise<{ id: string; purpose: 'apply' | 'revert' }[]> {
    const { rows } = await this.#pool.query<{ recommendation_id: string; purpose: 'apply' | 'revert' }>(
      'SELECT recommendation_id, purpose FROM agentic_hmi.recommendation_writes WHERE finished_at IS NULL ORDER BY claimed_at',
    );
    return rows.map((r) => ({ id: r.recommendation_id, purpose: r.purpose }));
  }

  async dueIds(nowMs: number, expireAfterMs: number): Promise<string[]> {
    const now = new Date(nowMs);
    const { rows } = await this.#pool.query<{ recommendation_id: string }>(
      `SELECT recommendation_id FROM ${T}
        WHERE (status = 'deferred' AND deferred_until <= $1)
           OR (status = 'pending' AND created_timestamp <= $2)
        ORDER BY created_timestamp LIMIT 500`,
      [now, new Date(nowMs - expireAfterMs)],
    );
    return rows.map((r) => r.recommendation_id);
  }

  /** `seqs[i]`: the seq alert i was pushed with (push-first bypass); otherwise the log assigns one. */
  async appendCriticalAlerts(
    alerts: readonly CriticalAlertCandidate[],
    seqs?: readonly (number | undefined)[],
  ): Promise<Change[]> {
    if (alerts.length === 0) return [];
    return this.#tx(async (c) => {
      const out: Change[] = [];
      for (const [i, a] of alerts.entries()) {
        const ins = await c.query(
          `INSERT INTO mining_operations.critical_alerts (alert_id, equipment_id, sensor_type, tag_path, sensor_value, threshold, level, message, alert_timestamp)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (alert_id) DO NOTHING`,
          [
            a.id,
            a.equipmentId,
            a.sensorType,
            a.tagPath,
            a.value,
            a.threshold,
            a.level,
            a.message,
            new Date(a.sourceTimestampMs),
          ],
        );
        if ((ins.rowCount ?? 0) === 0) continue;
        const alert = alertView(a);
        const { rows } = await c.query<{ seq: string }>(
          `INSERT INTO agentic_hmi.recommendation_changes (seq, change_type, subject_id, payload)
           VALUES (COALESCE($3::bigint, nextval(pg_get_serial_sequence('agentic_hmi.recommendation_changes', 'seq'))), 'critical_alert', $1, $2) RETURNING seq`,
          [a.id, JSON.stringify(alert), seqs?.[i] ?? null],
        );
        out.push({ seq: Number(rows[0]?.seq), type: 'critical_alert', alert });
      }
      return out;
    });
  }

  reserveChangeSeqs(n: number): Promise<number[]> {
    return c.reserveChangeSeqs(this.#pool, n);
  }

  latestCriticalAlertMs(): Promise<number | undefined> {
    return c.latestCriticalAlertMs(this.#pool);
  }

  changesSince(afterSeq: number, limit: number): Promise<Change[]> {
    return c.changesSince(this.#pool, afterSeq, limit);
  }

  pruneChanges(beforeMs: number): Promise<number> {
    return c.pruneChanges(this.#pool, beforeMs);
  }

  similarNotes(equipmentId: string, issueType: string, limit: number): Promise<string[]> {
    return c.similarNotes(this.#pool, equipmentId, issueType, limit);
  }

  addShelf(s: Omit<Shelf, 'id'>): Promise<Shelf> {
    return q.addShelf(this.#pool, s);
  }

  endShelf(id: number, by: string, nowMs: number): Promise<boolean> {
    return q.endShelf(this.#pool, id, by, nowMs);
  }

  activeShelves(nowMs: number): Promise<Shelf[]> {
    return q.activeShelves(this.#pool, nowMs);
  }

  disciplineHistory(nowMs: number): Promise<DisciplineHistory> {
    return q.disciplineHistory(this.#pool, nowMs);
  }

  setMode(
    equipmentId: string,
    mode: string,
    source: 'tag' | 'api',
    by: string,
    nowMs: number,
  ): Promise<void> {
    return q.setMode(this.#pool, equipmentId, mode, source, by, nowMs);
  }

  modes(): Promise<Map<string, string>> {
    return q.modes(this.#pool);
  }
}
