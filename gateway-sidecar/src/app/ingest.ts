/**
 * The ingest pipeline: TagSource batches -> EventValidator -> critical bypass -> detector -> sink
 * (bronze/silver) -> recommendation intake; mode tags go to the alarm discipline, setpoint tags
 * update live values.
 *
 * Exactly once for replayable sources: after every stage of a batch has committed, the largest
 * source timestamp of the batch is saved as the source's checkpoint. On restart the source replays
 * from the beginning; events at or before the checkpoint only warm the detector's feature windows
 * and the critical latch (so state after the restart equals an uninterrupted run) and have no
 * other effect; later events are processed. A crash between a stage's commit and the checkpoint
 * repeats that one batch, identically composed, which the stages absorb through stable event ids
 * (bronze/silver primary keys, the recommendation store's recorded anomaly event ids, alert ids).
 * This needs what the replayable sources guarantee: events in source-time order, the same batches
 * on every replay, and no source timestamp split across two batches (a batch is whole CSV rows or
 * whole simulator ticks). Were a timestamp split, its second half would be skipped after a crash.
 *
 * The critical bypass runs before the detector and is not awaited by it: an emergency crossing is
 * pushed from memory the instant the validation loop sees it (`raise` publishes synchronously when a
 * reserved change-log seq is at hand, see app/critical-push.ts) and written while the batch is still
 * being scored; the batch's checkpoint waits for that write. A failed write is retried with the
 * same alerts, which keep their seq and are not pushed again.
 *
 * A failing stage is retried with backoff while the pipeline runs; the source waits meanwhile
 * (backpressure), so nothing is skipped.
 */
import type { ScoredReading } from '../domain/detection.ts';
import type {
  EventValidator,
  ModeReading,
  RejectReason,
  SensorReading,
  SetpointReading,
  TagEvent,
} from '../domain/tag-event.ts';
import type { Clock, TagSource } from '../ports.ts';
import type { Logger } from '../log.ts';

/** Features + ensemble over a batch of readings, in input order (anomalies marked). */
export interface BatchDetector {
  score(readings: readonly SensorReading[]): Promise<readonly ScoredReading[]>;
}

/** Bronze (accepted raw readings) and silver (scored readings); idempotent by event id. */
export interface IngestSink {
  write(bronze: readonly SensorReading[], silver: readonly ScoredReading[]): Promise<void>;
}

/**
 * Emergency-threshold bypass in two steps so a failed write can be retried without re-deciding:
 * `evaluate` is synchronous crossing detection (it keeps per-tag state, so replayed events are fed
 * too); `raise` writes and pushes the alerts, idempotent by alert id.
 */
export interface CriticalBypass<A = unknown> {
  evaluate(reading: SensorReading): readonly A[];
  raise(alerts: readonly A[]): Promise<void>;
  /**
   * Optional: resolves when the bypass is ready to push the next alert at once (for the push-first
   * bypass: its reserve of change-log seqs refilled). Awaited at the end of each batch, alongside
   * the checkpoint write, so the next batch's first alert does not wait. Never rejects.
   */
  ready?(): Promise<void>;
}

/** The recommendation engine's entry: returns how many recommendations were created or updated. */
export interface RecommendationIntake {
  onScored(scored: readonly ScoredReading[]): Promise<number>;
}

export interface ModeListener {
  onMode(mode: ModeReading): Promise<void> | void;
}

export interface SetpointListener {
  onSetpoint(setpoint: SetpointReading): void;
}

/** Last fully processed source timestamp per source name. */
export interface CheckpointStore {
  load(source: string): Promise<number | undefined>;
  save(source: string, sourceTimestampMs: number): Promise<void>;
}

/** What the pipeline reports for /metrics; every method is cheap and synchronous. */
export interface IngestObserver {
  accepted(n: number): void;
  rejected(reason: RejectReason): void;
  scored(n: number, anomalies: number): void;
  /** Milliseconds from receipt of the newest anomalous event of a batch to its recommendations committing. */
  recommendationLatency(ms: number, count: number): void;
  batch(size: number, ms: number): void;
  stageRetry(stage: string): void;
}

export interface IngestDeps {
  readonly source: TagSource;
  readonly validator: EventValidator;
  readonly critical: CriticalBypass;
  readonly detector: BatchDetector;
  readonly sink: IngestSink;
  readonly recommendations: RecommendationIntake;
  readonly modes: ModeListener;
  readonly setpoints: SetpointListener;
  readonly checkpoints: CheckpointStore;
  readonly observer: IngestObserver;
  readonly clock: Clock;
  readonly logger: Logger;
  /** First and largest retry delay of a failing stage. */
  readonly retryMs?: { readonly first: number; readonly max: number };
}

export interface IngestStatus {
  readonly batches: number;
  readonly events: number;
  readonly checkpoint: number | undefined;
  readonly lastError: string | undefined;
}

export class IngestPipeline {
  readonly #d: IngestDeps;
  readonly #log: Logger;
  #checkpoint: number | undefined;
  #running = false;
  #batches = 0;
  #events = 0;
  #lastError: string | undefined;
  #idle: Promise<void> = Promise.resolve();
  #batchListeners: ((status: IngestStatus) => void)[] = [];

  constructor(deps: IngestDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'ingest', source: deps.source.name });
  }

  status(): IngestStatus {
    return {
      batches: this.#batches,
      events: this.#events,
      checkpoint: this.#checkpoint,
      lastError: this.#lastError,
    };
  }

  /** Called after each committed batch (tests and the demo use it to follow progress). */
  onBatch(listener: (status: IngestStatus) => void): void {
    this.#batchListeners.push(listener);
  }

  async start(): Promise<void> {
    this.#checkpoint = await this.#d.checkpoints.load(this.#d.source.name);
    this.#running = true;
    this.#log.info({ checkpoint: this.#checkpoint }, 'ingest starting');
    await this.#d.source.start((batch) => {
      const run = this.#handle(batch);
      this.#idle = run.catch(() => undefined);
      return run;
    });
  }

  /** Stops the source, then waits for the batch in flight to commit (clean drain). */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#d.source.stop();
    await this.#idle;
    this.#log.info(this.status(), 'ingest stopped');
  }

  async #handle(batch: readonly TagEvent[]): Promise<void> {
    const started = this.#d.clock.now();
    const { validator, observer } = this.#d;
    const live: SensorReading[] = [];
    const all: SensorReading[] = [];
    const cp = this.#checkpoint;
    let maxTs = Number.NEGATIVE_INFINITY;
    const criticals: Promise<void>[] = [];
    const alerts: unknown[] = [];

    for (const event of batch) {
      const result = validator.validate(event);
      if (!result.ok) {
        observer.rejected(result.reason);
        if (this.#log.isLevelEnabled('debug')) {
          this.#log.debug(
            { reason: result.reason, tagPath: result.tagPath, problem: result.message },
            'event rejected',
          );
        }
        continue;
      }
      const ev = result.event;
      if (ev.sourceTimestampMs > maxTs) maxTs = ev.sourceTimestampMs;
      const replayed = cp !== undefined && ev.sourceTimestampMs <= cp;
      if (ev.kind === 'sensor') {
        all.push(ev);
        const raised = this.#d.critical.evaluate(ev);
        if (replayed) continue;
        live.push(ev);
        if (raised.length > 0) {
          // Bypass: started now, awaited only before the checkpoint, never by the detector.
          for (const a of raised) alerts.push(a);
          const raising = this.#d.critical.raise(raised);
          // Handled below (allSettled, then retry); without this a rejection that lands while the
          // detector or sink is still awaited counts as unhandled and ends the process.
          raising.catch(() => undefined);
          criticals.push(raising);
        }
      } else if (ev.kind === 'mode') {
        if (!replayed) await this.#d.modes.onMode(ev);
      } else {
        this.#d.setpoints.onSetpoint(ev);
      }
    }
    observer.accepted(live.length);

    const scoredAll = all.length > 0 ? await this.#retry('detector', () => this.#d.detector.score(all)) : [];
    const scored = cp === undefined ? scoredAll : scoredAll.filter((s) => s.reading.sourceTimestampMs > cp);
    let anomalies = 0;
    let newestAnomalyReceived = Number.NEGATIVE_INFINITY;
    for (const s of scored) {
      if (s.isAnomaly) {
        anomalies++;
        if (s.reading.receivedTimestampMs > newestAnomalyReceived)
          newestAnomalyReceived = s.reading.receivedTimestampMs;
      }
    }
    observer.scored(scored.length, anomalies);

    if (live.length > 0) await this.#retry('sink', () => this.#d.sink.write(live, scored));
    if (scored.length > 0) {
      const count = await this.#retry('recommendations', () => this.#d.recommendations.onScored(scored));
      if (count > 0 && anomalies > 0)
        observer.recommendationLatency(this.#d.clock.now() - newestAnomalyReceived, count);
    }
    if (criticals.length > 0) {
      const firstTry = await Promise.allSettled(criticals);
      if (firstTry.some((r) => r.status === 'rejected')) {
        this.#log.warn({ alerts: alerts.length }, 'critical alert write failed; retrying');
        await this.#retry('critical', () => this.#d.critical.raise(alerts));
      }
    }

    // The bypass refills its reserve (burnt by this batch's changes) while the checkpoint is written.
    const bypassReady = this.#d.critical.ready?.();
    if (maxTs > Number.NEGATIVE_INFINITY && (this.#checkpoint === undefined || maxTs > this.#checkpoint)) {
      try {
        await this.#d.checkpoints.save(this.#d.source.name, maxTs);
        this.#checkpoint = maxTs;
      } catch (err) {
        // Not fatal: a stale checkpoint only means more idempotent re-processing after a crash.
        this.#log.warn({ err }, 'checkpoint not saved');
      }
    }
    await bypassReady;
    this.#batches++;
    this.#events += batch.length;
    observer.batch(batch.length, this.#d.clock.now() - started);
    if (this.#log.isLevelEnabled('debug'))
      this.#log.debug({ size: batch.length, anomalies, checkpoint: this.#checkpoint }, 'batch committed');
    const status = this.status();
    for (const l of this.#batchListeners) l(status);
  }

  async #retry<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const first = this.#d.retryMs?.first ?? 200;
    const max = this.#d.retryMs?.max ?? 10_000;
    let delay = first;
    for (;;) {
      try {
        const result = await fn();
        if (this.#lastError !== undefined) {
          this.#log.info({ stage }, 'ingest stage recovered');
          this.#lastError = undefined;
        }
        return result;
      } catch (err) {
        this.#lastError = `${stage}: ${(err as Error).message}`;
        this.#d.observer.stageRetry(stage);
        if (!this.#running) throw err;
        this.#log.warn({ err, stage, retryInMs: delay }, 'ingest stage failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(max, delay * 2);
      }
    }
  }
}
