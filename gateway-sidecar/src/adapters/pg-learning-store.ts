/**
 * LearningStore on Postgres. Labels are read, not copied: a decided recommendation's label is
 * joined to the features of exactly the anomaly events it was raised from
 * (`agent_recommendations.anomaly_event_ids` → `anomaly_detection_silver.event_id`), so no
 * neighbouring event of another sensor or condition leaks in (the seed's ±1 minute join did).
 */
import type pg from 'pg';
import type { DecisionTiming } from '../domain/learning/human.ts';
import type { RecommendationOutcome, WindowActivity } from '../domain/learning/labels.ts';
import type { ExecutedWrite, LabelledEvent, LearningStore, OutcomeRecord } from '../domain/learning/ports.ts';
import type { PatternCounts } from '../domain/learning/posterior.ts';
import type { DriftResult } from '../domain/learning/drift.ts';
import type { Change, Recommendation } from '../domain/recommendation-view.ts';
import { REC_COLUMNS, toRecommendation, type RecRow } from './pg-recommendation-rows.ts';
import { withOnePatternHistory } from './pg-pattern-history.ts';
import { inTransaction } from './pg-pool.ts';

type Queryable = Pick<pg.PoolClient, 'query'>;
/** The learning loop's actor in the recommendation audit. */
const ACTOR = 'learning';

const iso = (ms: number): string => new Date(ms).toISOString();

function numericFeatures(f: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (f !== null && typeof f === 'object')
    for (const [k, v] of Object.entries(f)) if (typeof v === 'number') out[k] = v;
  return out;
}

export class PgLearningStore implements LearningStore {
  readonly #db: Pick<pg.Pool, 'query' | 'connect'>;
  constructor(db: Pick<pg.Pool, 'query' | 'connect'>) {
    this.#db = db;
  }

  #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#db, fn);
  }

  /** Audit row + change-log row of an outcome update, as the recommendation store does for every change. */
  async #announce(c: Queryable, row: RecRow, action: string, note: string, atMs: number): Promise<Change> {
    // With its pattern history, as every change the recommendation store logs.
    const rec: Recommendation = await withOnePatternHistory(c, toRecommendation(row));
    await c.query(
      `INSERT INTO agentic_hmi.recommendation_audit
         (recommendation_id, action, actor, actor_roles, from_status, to_status, before_value, after_value, note, at)
       VALUES ($1, $2, $3, '{}', $4, $4, NULL, $5, $6, $7)`,
      [rec.id, action, ACTOR, rec.status, JSON.stringify(rec.outcome ?? null), note, iso(atMs)],
    );
    const { rows } = await c.query<{ seq: string }>(
      `INSERT INTO agentic_hmi.recommendation_changes (change_type, subject_id, payload) VALUES ('recommendation', $1, $2) RETURNING seq`,
      [rec.id, JSON.stringify(rec)],
    );
    return { seq: Number(rows[0]?.seq), type: 'recommendation', recommendation: rec };
  }

  async labelledEvents(fromMs: number, toMs: number): Promise<LabelledEvent[]> {
    const { rows } = await this.#db.query<{
      recommendation_id: string;
      equipment_id: string;
      issue_type: string;
      status: string;
      operator_notes: string | null;
      outcome: RecommendationOutcome | null;
      event_id: string;
      ts: Date;
      anomaly_timestamp: Date;
      decided_at: Date | null;
      features: unknown;
    }>(
      `SELECT r.recommendation_id, r.equipment_id, r.issue_type, r.status, r.operator_notes,
              r.outcome->>'outcome' AS outcome, s.event_id, s.timestamp AS ts, r.anomaly_timestamp,
              r.decided_at, s.features
         FROM agentic_hmi.agent_recommendations r
         CROSS JOIN LATERAL unnest(r.anomaly_event_ids) AS e(event_id)
         JOIN mining_operations.anomaly_detection_silver s ON s.event_id = e.event_id
        WHERE r.status IN ('approved', 'executed', 'failed', 'rejected')
          AND r.created_timestamp >= $1 AND r.created_timestamp < $2
        ORDER BY r.recommendation_id, s.event_id`,
      [iso(fromMs), iso(toMs)],
    );
    return rows.map((r) => ({
      recommendationId: r.recommendation_id,
      equipmentId: r.equipment_id,
      issueType: r.issue_type,
      status: r.status,
      note: r.operator_notes,
      outcome: r.outcome,
      eventId: r.event_id,
      tsMs: r.ts.getTime(),
      raisedAtMs: r.anomaly_timestamp.getTime(),
      decidedAtMs: r.decided_at === null ? null : r.decided_at.getTime(),
      features: numericFeatures(r.features),
    }));
  }

  async featureRows(
    fromMs: number,
    toMs: number,
    limit: number,
    normalOnly: boolean,
    nearConfirmedMs = 0,
  ): Promise<Record<string, number>[]> {
    // Even sampling: number the rows in time order and keep every k-th, k from the count. The
    // margin around confirmed recommendations spans their events' source times (anomaly_timestamp
    // to the latest appended event).
    const { rows } = await this.#db.query<{ features: unknown }>(
      `WITH confirmed AS (
         SELECT r.equipment_id,
                r.anomaly_timestamp - $5::double precision * interval '1 millisecond' AS lo,
                (SELECT max(e.timestamp) FROM mining_operations.anomaly_detection_silver e
                  WHERE e.event_id = ANY (r.anomaly_event_ids)) + $5::double precision * interval '1 millisecond' AS hi
           FROM agentic_hmi.agent_recommendations r
          WHERE $5::double precision > 0 AND r.status IN ('approved', 'executed', 'failed')
            AND r.anomaly_timestamp < $2::timestamptz + $5::double precision * interval '1 millisecond'),
       r AS (
         SELECT s.features, row_number() OVER (ORDER BY s.timestamp, s.event_id) AS n, count(*) OVER () AS total
           FROM mining_operations.anomaly_detection_silver s
          WHERE s.timestamp >= $1 AND s.timestamp < $2 AND (NOT $4::boolean OR NOT s.is_anomaly)
            AND NOT EXISTS (SELECT 1 FROM confirmed c
                             WHERE c.equipment_id = s.equipment_id AND s.timestamp >= c.lo
                               AND s.timestamp <= COALESCE(c.hi, c.lo + 2 * $5::double precision * interval '1 millisecond')))
       SELECT features FROM r WHERE (n - 1) % GREATEST(1, ceil(total::numeric / $3)::bigint) = 0 LIMIT $3`,
      [iso(fromMs), iso(toMs), limit, normalOnly, nearConfirmedMs],
    );
    return rows.map((r) => numericFeatures(r.features));
  }

  async patternCounts(): Promise<Map<string, PatternCounts>> {
    const { rows } = await this.#db.query<{
      equipment_id: string;
      issue_type: string;
      approved: string;
      rejected: string;
      effective: string;
      worse: string;
    }>(
      `SELECT equipment_id, issue_type,
              count(*) FILTER (WHERE status IN ('approved', 'executed', 'failed')) AS approved,
              count(*) FILTER (WHERE status = 'rejected') AS rejected,
              count(*) FILTER (WHERE outcome->>'outcome' = 'effective') AS effective,
              count(*) FILTER (WHERE outcome->>'outcome' = 'worse') AS worse
         FROM agentic_hmi.agent_recommendations
        WHERE status IN ('approved', 'executed', 'failed', 'rejected')
        GROUP BY equipment_id, issue_type`,
    );
    const m = new Map<string, PatternCounts>();
    for (const r of rows)
      m.set(`${r.equipment_id}|${r.issue_type}`, {
        approved: Number(r.approved),
        rejected: Number(r.rejected),
        effective: Number(r.effective),
        worse: Number(r.worse),
      });
    return m;
  }

  async decisionTimings(fromMs: number, toMs: number): Promise<DecisionTiming[]> {
    const { rows } = await this.#db.query<{
      equipment_id: string;
      issue_type: string;
      created_timestamp: Date;
      at: Date;
      action: string;
      actor_roles: string[];
    }>(
      `SELECT r.equipment_id, r.issue_type, r.created_timestamp, a.at, a.action, a.actor_roles
         FROM agentic_hmi.recommendation_audit a
         JOIN agentic_hmi.agent_recommendations r ON r.recommendation_id = a.recommendation_id
        WHERE a.action IN ('approve', 'reject') AND a.at >= $1 AND a.at < $2`,
      [iso(fromMs), iso(toMs)],
    );
    return rows.map((r) => ({
      equipmentId: r.equipment_id,
      issueType: r.issue_type,
      role: r.actor_roles.includes('engineer')
        ? 'engineer'
        : r.actor_roles.includes('operator')
          ? 'operator'
          : (r.actor_roles[0] ?? 'unknown'),
      status: r.action === 'approve' ? 'approved' : 'rejected',
      createdMs: r.created_timestamp.getTime(),
      decidedMs: r.at.getTime(),
    }));
  }

  async writesAwaitingOutcome(beforeMs: number): Promise<ExecutedWrite[]> {
    const { rows } = await this.#db.query<{
      recommendation_id: string;
      equipment_id: string;
      issue_type: string;
      finished_at: Date;
    }>(
      `SELECT w.recommendation_id, r.equipment_id, r.issue_type, w.finished_at
         FROM agentic_hmi.recommendation_writes w
         JOIN agentic_hmi.agent_recommendations r ON r.recommendation_id = w.recommendation_id
         LEFT JOIN agentic_hmi.recommendation_outcomes o ON o.recommendation_id = w.recommendation_id
        WHERE w.purpose = 'apply' AND w.ok AND w.finished_at <= $1 AND o.recommendation_id IS NULL
        ORDER BY w.finished_at`,
      [iso(beforeMs)],
    );
    return rows.map((r) => ({
      recommendationId: r.recommendation_id,
      equipmentId: r.equipment_id,
      issueType: r.issue_type,
      writtenAtMs: r.finished_at.getTime(),
    }));
  }

  async activity(equipmentId: string, fromMs: number, toMs: number): Promise<WindowActivity> {
    const { rows } = await this.#db.query<{
      events: string;
      anomalies: string;
      mean: number | null;
      last_anomaly: Date | null;
    }>(
      `SELECT count(*) AS events, count(*) FILTER (WHERE is_anomaly) AS anomalies, avg(anomaly_score) AS mean,
              max(timestamp) FILTER (WHERE is_anomaly) AS last_anomaly
         FROM mining_operations.anomaly_detection_silver
        WHERE equipment_id = $1 AND timestamp >= $2 AND timestamp < $3`,
      [equipmentId, iso(fromMs), iso(toMs)],
    );
    const r = rows[0];
    return {
      events: Number(r?.events ?? 0),
      anomalies: Number(r?.anomalies ?? 0),
      meanScore: r?.mean ?? 0,
      lastAnomalyMs: r?.last_anomaly ? r.last_anomaly.getTime() : null,
    };
  }

  recordOutcome(o: OutcomeRecord): Promise<Change | undefined> {
    return this.#tx(async (c) => {
      const ins = await c.query(
        `INSERT INTO agentic_hmi.recommendation_outcomes
           (recommendation_id, equipment_id, issue_type, outcome, written_at, checked_at, window_minutes, before_activity, after_activity)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)
         ON CONFLICT (recommendation_id) DO NOTHING`,
        [
          o.recommendationId,
          o.equipmentId,
          o.issueType,
          o.outcome,
          iso(o.writtenAtMs),
          iso(o.checkedAtMs),
          o.windowMinutes,
          JSON.stringify(o.before),
          JSON.stringify(o.after),
        ],
      );
      if ((ins.rowCount ?? 0) === 0) return undefined; // another instance recorded it first
      const { rows } = await c.query<RecRow>(
        `UPDATE agentic_hmi.agent_recommendations
            SET outcome = jsonb_build_object('outcome', $2::text, 'checkedAt', $3::timestamptz, 'writtenAt', $4::timestamptz,
                  'windowMinutes', $5::int, 'before', $6::jsonb, 'after', $7::jsonb, 'clearedAfterMs', $8::double precision)
          WHERE recommendation_id = $1
          RETURNING ${REC_COLUMNS}`,
        [
          o.recommendationId,
          o.outcome,
          iso(o.checkedAtMs),
          iso(o.writtenAtMs),
          o.windowMinutes,
          JSON.stringify(o.before),
          JSON.stringify(o.after),
          o.clearedAfterMs,
        ],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return this.#announce(
        c,
        row,
        'outcome',
        `outcome '${o.outcome}' after ${o.windowMinutes} min: anomalies ${o.before.anomalies}/${o.before.events} before, ${o.after.anomalies}/${o.after.events} after`,
        o.checkedAtMs,
      );
    });
  }

  markReverted(recommendationId: string, atMs: number): Promise<Change | undefined> {
    return this.#tx(async (c) => {
      await c.query(
        'UPDATE agentic_hmi.recommendation_outcomes SET reverted = true WHERE recommendation_id = $1',
        [recommendationId],
      );
      const { rows } = await c.query<RecRow>(
        `UPDATE agentic_hmi.agent_recommendations SET outcome = outcome || '{"reverted": true}'::jsonb
          WHERE recommendation_id = $1 AND outcome IS NOT NULL
          RETURNING ${REC_COLUMNS}`,
        [recommendationId],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return this.#announce(c, row, 'outcome_reverted', 'worse write reverted automatically', atMs);
    });
  }

  async outcomeCounts(): Promise<Record<RecommendationOutcome, number>> {
    const { rows } = await this.#db.query<{ outcome: RecommendationOutcome; n: string }>(
      'SELECT outcome, count(*) AS n FROM agentic_hmi.recommendation_outcomes GROUP BY outcome',
    );
    const out: Record<RecommendationOutcome, number> = { effective: 0, not_effective: 0, worse: 0 };
    for (const r of rows) out[r.outcome] = Number(r.n);
    return out;
  }

  async saveDrift(atMs: number, modelVersion: string, rows: number, result: DriftResult): Promise<void> {
    await this.#db.query(
      'INSERT INTO agentic_hmi.drift_snapshots (at, model_version, rows, psi, alerts) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)',
      [iso(atMs), modelVersion, rows, JSON.stringify(result.psi), JSON.stringify(result.alerts)],
    );
  }

  async mergeMetricsExtra(atMs: number, extra: Readonly<Record<string, unknown>>): Promise<void> {
    const minute = Math.floor(atMs / 60_000) * 60_000;
    await this.#db.query(
      `INSERT INTO mining_operations.pipeline_metrics (metric_timestamp, extra) VALUES ($1, jsonb_build_object('learning', $2::jsonb))
       ON CONFLICT (metric_timestamp) DO UPDATE SET extra = pipeline_metrics.extra || jsonb_build_object('learning', $2::jsonb)`,
      [iso(minute), JSON.stringify(extra)],
    );
  }
}
