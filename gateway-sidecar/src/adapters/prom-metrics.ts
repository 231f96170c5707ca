/**
 * The sidecar's Prometheus metrics. One object implements the observer interfaces the pipeline,
 * the SSE stream and the decision routes report to, so `main.ts` wires it once. Values owned
 * elsewhere (spool depth, ISA-18.2 KPIs, source state) are read at scrape time through callbacks.
 */
import type { IngestObserver } from '../ports.ts';
import type { Change, Decision, Recommendation } from '../domain/recommendation-view.ts';
import type { RejectReason } from '../domain/tag-event.ts';
import type { DecisionObserver } from './http/recommendation-routes.ts';
import type { RefusalObserver } from './http/refusals.ts';
import type { SseObserver } from './http/sse.ts';
import { Counter, Gauge, Histogram, Registry } from './prom-registry.ts';

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Readings taken at scrape time from the parts that own them. */
export interface ScrapeSources {
  spoolDepth?: () => number;
  /** ISA-18.2 KPIs from the alarm discipline. */
  kpis?: () => {
    recommendationsPerOperatorHour: number;
    floodWindowPct: number;
    chatteringPatterns: number;
    /** Recommendations raised past a rejection since start, by reason (domain/reopen.ts). */
    reopened?: Readonly<Record<string, number>>;
  };
}

/** A counter owned elsewhere, read at scrape time with one series per label value. */
function scrapedCounter(
  name: string,
  help: string,
  label: string,
  read: () => Readonly<Record<string, number>> | undefined,
): { readonly name: string; render(): string } {
  return {
    name,
    render(): string {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} counter`];
      for (const [k, v] of Object.entries(read() ?? {})) lines.push(`${name}{${label}="${k}"} ${v}`);
      return lines.join('\n');
    },
  };
}

export class SidecarMetrics implements IngestObserver, SseObserver, DecisionObserver, RefusalObserver {
  readonly registry = new Registry();
  readonly eventsIn = this.registry.register(
    new Counter('sidecar_events_accepted_total', 'Tag events accepted by validation'),
  );
  readonly eventsRejected = this.registry.register(
    new Counter('sidecar_events_rejected_total', 'Tag events rejected, by reason'),
  );
  readonly scoredTotal = this.registry.register(
    new Counter('sidecar_events_scored_total', 'Sensor readings scored by the ensemble'),
  );
  readonly anomalies = this.registry.register(
    new Counter('sidecar_anomalies_total', 'Scored readings flagged anomalous'),
  );
  readonly recommendations = this.registry.register(
    new Counter('sidecar_recommendations_total', 'Recommendations created or updated by the engine'),
  );
  readonly criticalAlerts = this.registry.register(
    new Counter('sidecar_critical_alerts_total', 'Critical alerts raised by the threshold bypass'),
  );
  readonly decisions = this.registry.register(
    new Counter('sidecar_decisions_total', 'Operator decisions, by decision and outcome'),
  );
  readonly writes = this.registry.register(
    new Counter('sidecar_setpoint_writes_total', 'Setpoint writes after approval, by result'),
  );
  readonly stageRetries = this.registry.register(
    new Counter('sidecar_ingest_stage_retries_total', 'Failed ingest stages retried, by stage'),
  );
  readonly modelWorkerRestarts = this.registry.register(
    new Counter(
      'sidecar_model_worker_restarts_total',
      'Restarts of the ONNX worker thread after it died (onnx-model-runner.ts)',
    ),
  );
  readonly ssePushed = this.registry.register(
    new Counter('sidecar_sse_pushed_total', 'Changes written to SSE clients, by type'),
  );
  readonly sseClients = this.registry.register(new Gauge('sidecar_sse_clients', 'Connected SSE clients'));
  readonly sseDropped = this.registry.register(
    new Counter('sidecar_sse_dropped_total', 'SSE clients closed by the server, by reason'),
  );
  readonly httpRefusals = this.registry.register(
    new Counter(
      'sidecar_http_refusals_total',
      'HTTP requests answered 4xx, by route pattern, status and error code',
    ),
  );
  readonly batchSeconds = this.registry.register(
    new Histogram('sidecar_ingest_batch_seconds', 'Time to process one source batch', LATENCY_BUCKETS_S),
  );
  readonly eventToRecommendation = this.registry.register(
    new Histogram(
      'sidecar_event_to_recommendation_seconds',
      'Event received -> its recommendation committed in Postgres',
      LATENCY_BUCKETS_S,
    ),
  );
  readonly eventToPush = this.registry.register(
    new Histogram(
      'sidecar_event_to_push_seconds',
      'Event (source time) -> change written to an SSE client, by type',
      LATENCY_BUCKETS_S,
    ),
  );
  readonly #sources: ScrapeSources;

  constructor(sources: ScrapeSources = {}) {
    this.#sources = sources;
    this.registry.register(
      new Gauge(
        'sidecar_spool_depth',
        'Batches waiting in the local spool journal',
        () => sources.spoolDepth?.() ?? 0,
      ),
    );
    this.registry.register(
      new Gauge(
        'sidecar_isa182_recommendations_per_operator_hour',
        'ISA-18.2: recommendations per operator per hour (target <= 6)',
        () => sources.kpis?.().recommendationsPerOperatorHour ?? 0,
      ),
    );
    this.registry.register(
      new Gauge(
        'sidecar_isa182_flood_window_percent',
        'ISA-18.2: percent of 10-minute windows in flood',
        () => sources.kpis?.().floodWindowPct ?? 0,
      ),
    );
    this.registry.register(
      new Gauge(
        'sidecar_isa182_chattering_patterns',
        'ISA-18.2: equipment/issue patterns chattering now',
        () => sources.kpis?.().chatteringPatterns ?? 0,
      ),
    );
    this.registry.register(
      scrapedCounter(
        'sidecar_recommendations_reopened_total',
        'Recommendations raised past a rejection of the same pattern and window, by first reason (severity, top_tag, score)',
        'reason',
        () => sources.kpis?.().reopened,
      ),
    );
  }

  /** Lets main.ts attach scrape sources that exist only after start-up (spool, discipline). */
  attach(sources: ScrapeSources): void {
    Object.assign(this.#sources, sources);
  }

  render(): string {
    return this.registry.render();
  }

  // IngestObserver
  accepted(n: number): void {
    if (n > 0) this.eventsIn.inc(undefined, n);
  }
  rejected(reason: RejectReason): void {
    this.eventsRejected.inc({ reason });
  }
  scored(n: number, anomalies: number): void {
    if (n > 0) this.scoredTotal.inc(undefined, n);
    if (anomalies > 0) this.anomalies.inc(undefined, anomalies);
  }
  recommendationLatency(ms: number, count: number): void {
    this.recommendations.inc(undefined, count);
    this.eventToRecommendation.observe(ms / 1000);
  }
  batch(_size: number, ms: number): void {
    this.batchSeconds.observe(ms / 1000);
  }
  stageRetry(stage: string): void {
    this.stageRetries.inc({ stage });
  }

  /** The ONNX worker thread died and a restart was scheduled (main-detection.ts). */
  modelWorkerRestart(): void {
    this.modelWorkerRestarts.inc();
  }

  // SseObserver
  pushed(change: Change, nowMs: number): void {
    this.ssePushed.inc({ type: change.type });
    const at = change.type === 'critical_alert' ? change.alert?.at : change.recommendation?.lastSeenAt;
    const t = at === undefined ? NaN : Date.parse(at);
    // Source time can be far in the past for replayed data; only live pushes say something about latency.
    if (Number.isFinite(t) && nowMs - t < 60_000)
      this.eventToPush.observe((nowMs - t) / 1000, { type: change.type });
  }
  clients(delta: 1 | -1): void {
    this.sseClients.add(delta);
  }

  dropped(reason: 'slow_client'): void {
    this.sseDropped.inc({ reason });
  }

  // RefusalObserver
  refused(route: string, status: number, code: string): void {
    this.httpRefusals.inc({ route, status: String(status), code });
  }

  // DecisionObserver
  decided(
    decision: Decision | 'revert',
    outcome: 'ok' | 'conflict' | 'refused',
    result?: Recommendation,
  ): void {
    this.decisions.inc({ decision, outcome });
    if (
      result?.writeResult &&
      (result.status === 'executed' || result.status === 'failed' || decision === 'revert')
    ) {
      this.writes.inc({ result: result.writeResult.ok ? 'ok' : 'failed' });
    }
  }

  /** Raised by the critical bypass. */
  criticalAlert(): void {
    this.criticalAlerts.inc();
  }
}
