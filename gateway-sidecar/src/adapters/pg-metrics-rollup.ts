/**
 * Writes one `mining_operations.pipeline_metrics` row per minute (the seed's pipeline health
 * dashboard reads it):
 *   events_per_hour, anomalies_per_hour         rates from the pipeline's cumulative counters over
 *                                                the time since the previous rollup, scaled to 1 h
 *   recommendations_per_hour                     from the counter when given, else SQL: recommendations
 *                                                created in the hour before the rollup
 *   avg_approval_rate                            SQL: share of recommendations decided in the last
 *                                                24 h that were approved (approved, executed or
 *                                                failed-after-approval); NULL when none was decided
 *   avg_recommendation_latency_seconds           SQL: mean anomaly -> recommendation delay of those
 *                                                created in the last hour; NULL when none
 *   extra                                        whatever `extra()` returns (ISA-18.2 KPIs, spool depth…)
 *
 * `metric_timestamp` is the start of the minute, and the row is upserted, so running the rollup
 * twice in a minute (or after a restart) updates that minute's row instead of adding one.
 */
import type { Clock } from '../ports.ts';
import type { Logger } from '../log.ts';
import type { Queryable } from './pg-event-sink.ts';

/** Cumulative totals since the process started. */
export interface PipelineCounters {
  readonly events: number;
  readonly anomalies: number;
  /** Omit to count recommendations in SQL instead. */
  readonly recommendations?: number;
}

export interface PipelineMetricsRow {
  readonly metricTimestamp: Date;
  readonly eventsPerHour: number;
  readonly anomaliesPerHour: number;
  readonly recommendationsPerHour: number;
  readonly avgApprovalRate: number | null;
  readonly avgRecommendationLatencySeconds: number | null;
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface MetricsRollupOptions {
  readonly db: Queryable;
  readonly counters: () => PipelineCounters;
  readonly extra?: () => Record<string, unknown>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Rollup period, ms (default 60 000). */
  readonly intervalMs?: number;
}

const SQL_STATS = `
SELECT
  (SELECT count(*) FROM agentic_hmi.agent_recommendations
    WHERE created_timestamp > $1::timestamptz - INTERVAL '1 hour' AND created_timestamp <= $1::timestamptz) AS recs_last_hour,
  (SELECT avg(CASE WHEN status IN ('approved', 'executed', 'failed') THEN 1.0 ELSE 0.0 END)
     FROM agentic_hmi.agent_recommendations
    WHERE decided_at > $1::timestamptz - INTERVAL '24 hours'
      AND status IN ('approved', 'executed', 'failed', 'rejected', 'deferred')) AS approval_rate,
  (SELECT avg(EXTRACT(EPOCH FROM created_timestamp - anomaly_timestamp))
     FROM agentic_hmi.agent_recommendations
    WHERE created_timestamp > $1::timestamptz - INTERVAL '1 hour' AND created_timestamp <= $1::timestamptz) AS latency_s`;

const UPSERT = `
INSERT INTO mining_operations.pipeline_metrics
  (metric_timestamp, events_per_hour, anomalies_per_hour, recommendations_per_hour, avg_approval_rate,
   avg_recommendation_latency_seconds, extra)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
ON CONFLICT (metric_timestamp) DO UPDATE SET
  events_per_hour = EXCLUDED.events_per_hour,
  anomalies_per_hour = EXCLUDED.anomalies_per_hour,
  recommendations_per_hour = EXCLUDED.recommendations_per_hour,
  avg_approval_rate = EXCLUDED.avg_approval_rate,
  avg_recommendation_latency_seconds = EXCLUDED.avg_recommendation_latency_seconds,
  extra = EXCLUDED.extra`;

const HOUR_MS = 3_600_000;

/** The minute rollup writer. */
export class PgMetricsRollup {
  readonly #o: MetricsRollupOptions;
  readonly #log: Logger;
  #last: { atMs: number; counters: PipelineCounters };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #failures = 0;

  constructor(options: MetricsRollupOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'metrics-rollup' });
    this.#last = { atMs: options.clock.now(), counters: options.counters() };
  }

  /** Rollups that failed (database unreachable); the minute is then missing from the table. */
  get failures(): number {
    return this.#failures;
  }

  /** Rolls up at the end of every period until `stop()`. */
  start(): void {
    const period = this.#o.intervalMs ?? 60_000;
    const tick = (): void => {
      this.#running = this.rollupNow().catch((err: unknown) => {
        this.#failures++;
        this.#log.warn({ err }, 'pipeline_metrics rollup failed; this minute will be missing');
      });
      this.#timer = setTimeout(tick, period - (this.#o.clock.now() % period));
    };
    this.#timer = setTimeout(tick, period - (this.#o.clock.now() % period));
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Computes and upserts the row for the current minute; returns it. Throws on database errors. */
  async rollupNow(): Promise<PipelineMetricsRow> {
    const nowMs = this.#o.clock.now();
    const counters = this.#o.counters();
    const elapsedMs = Math.max(1, nowMs - this.#last.atMs);
    const perHour = (now: number, before: number): number =>
      (Math.max(0, now - before) * HOUR_MS) / elapsedMs;
    const now = new Date(nowMs);
    const { rows } = await this.#o.db.query<{
      recs_last_hour: string;
      approval_rate: string | null;
      latency_s: string | null;
    }>(SQL_STATS, [now]);
    const stats = rows[0];
    const recsPerHour =
      counters.recommendations !== undefined && this.#last.counters.recommendations !== undefined
        ? perHour(counters.recommendations, this.#last.counters.recommendations)
        : Number(stats?.recs_last_hour ?? 0);
    const row: PipelineMetricsRow = {
      metricTimestamp: new Date(nowMs - (nowMs % 60_000)),
      eventsPerHour: perHour(counters.events, this.#last.counters.events),
      anomaliesPerHour: perHour(counters.anomalies, this.#last.counters.anomalies),
      recommendationsPerHour: recsPerHour,
      avgApprovalRate: stats?.approval_rate == null ? null : Number(stats.approval_rate),
      avgRecommendationLatencySeconds: stats?.latency_s == null ? null : Number(stats.latency_s),
      extra: this.#o.extra?.() ?? {},
    };
    await this.#o.db.query(UPSERT, [
      row.metricTimestamp,
      row.eventsPerHour,
      row.anomaliesPerHour,
      row.recommendationsPerHour,
      row.avgApprovalRate,
      row.avgRecommendationLatencySeconds,
      JSON.stringify(row.extra),
    ]);
    this.#last = { atMs: nowMs, counters };
    return row;
  }
}
