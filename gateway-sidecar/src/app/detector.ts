/**
 * The detection stage: rolling features → ONNX ensemble in micro-batches → ScoredReading.
 *
 * Usage (main.ts wires it; other stages only see `process` / `score`):
 * ```ts
 * const runner = await loadOnnxModelDir(dir, FEATURE_NAMES, { thread: 'worker' });
 * const d = new Detector(runner, { windowMs, bucketCount, ifWeight, rfWeight, batchSize, batchMaxWaitMs, pipelineChunks });
 * const scored = await d.process(readings);      // same order as the input
 * const old = await d.swapModel(nextRunner);      // hot swap; close `old` when done
 * ```
 * Calls are serialised: readings are featurised in arrival order (the windows are stateful), and
 * concurrent small calls are coalesced into micro-batches of up to `batchSize` rows, waiting at
 * most `batchMaxWaitMs` for more. `swapModel` waits for the batch in flight, so every reading is
 * scored exactly once, by the old or the new model, never both, never neither.
 *
 * Pipelining (docs/performance.md): a micro-batch goes to the model in up to `pipelineChunks`
 * runs. With the runner on its own thread (`thread: 'worker'`, the sidecar's default through config
 * `ensemble.onnxThread`) the features of chunk k+1 are computed while chunk k is scored, and the
 * result objects of one chunk are built while the next is scored. The alarm gate sees exactly what the unpipelined detector lets it see: every row of a
 * micro-batch is featurised before any row of it is observed, and the rows are observed in order,
 * so the output equals that of `pipelineChunks: 1` (tested on thousands of rows with alarms).
 *
 * While an equipment is in alarm its readings do not enter the feature windows (see AlarmGate),
 * so a fault is measured against normal history rather than against itself.
 */
import { eventIdOf, type ScoredReading } from '../domain/detection.ts';
import { FEATURE_COUNT, FEATURE_NAMES, FeatureEngine } from '../domain/features.ts';
import {
  AlarmGate,
  DEFAULT_GATE,
  blendScores,
  explainRow,
  severityOf,
  type AlarmGateOptions,
} from '../domain/scoring.ts';
import type { SensorReading } from '../domain/tag-event.ts';
import { StateReader, StateWriter, writeHeader } from '../domain/state-codec.ts';
import type { ModelOutputs, ModelRunner } from '../ports.ts';
import { SidecarError, ERRORS } from '../errors.ts';

export interface DetectorOptions {
  readonly windowMs: number;
  readonly bucketCount: number;
  readonly ifWeight: number;
  readonly rfWeight: number;
  readonly batchSize: number;
  readonly batchMaxWaitMs: number;
  /** Hysteresis of the per-equipment alarm (defaults DEFAULT_GATE in domain/scoring.ts: on 15 ticks, off 30, relearn after 350). */
  readonly gate?: Partial<AlarmGateOptions>;
  /** Contributions listed per anomaly (default 3). */
  readonly explainTop?: number;
  /** Model runs per micro-batch, so features and scoring overlap (default 2; 1 = one run per batch). */
  readonly pipelineChunks?: number;
}

/** Default `pipelineChunks`; chunks are never cut below MIN_CHUNK_ROWS rows (a run has fixed costs). */
export const DEFAULT_PIPELINE_CHUNKS = 2;
const MIN_CHUNK_ROWS = 32;

/** The alarm-gate defaults live beside the gate (domain/scoring.ts); re-exported for callers. */
export { DEFAULT_GATE } from '../domain/scoring.ts';

/**
 * The features of one row as a plain object with a fixed shape. A literal with all 16 keys keeps
 * one hidden class; filling `{}` key by key in a loop made this the most expensive step per event.
 */
export function featureRecord(r: Float32Array, o: number): Readonly<Record<string, number>> {
  return {
    value: r[o] as number,
    rolling_mean: r[o + 1] as number,
    rolling_std: r[o + 2] as number,
    z_score: r[o + 3] as number,
    rate_of_change: r[o + 4] as number,
    ewma_fast: r[o + 5] as number,
    ewma_slow: r[o + 6] as number,
    ewma_gap: r[o + 7] as number,
    rolling_min: r[o + 8] as number,
    rolling_max: r[o + 9] as number,
    position_in_range: r[o + 10] as number,
    time_since_change: r[o + 11] as number,
    level_shift: r[o + 12] as number,
    volatility_ratio: r[o + 13] as number,
    step_z: r[o + 14] as number,
    equipment_deviation: r[o + 15] as number,
  };
}

/** Per micro-batch: feature rows, ensemble scores and alarm flags, indexed by row in the batch. */
interface BatchBuffers {
  rows: Float32Array;
  score: Float64Array;
  flag: Uint8Array;
}

interface Pending {
  readonly readings: readonly SensorReading[];
  readonly resolve: (r: ScoredReading[]) => void;
  readonly reject: (e: unknown) => void;
}

export class Detector {
  #runner: ModelRunner;
  readonly #o: DetectorOptions;
  readonly #engine: FeatureEngine;
  readonly #gate: AlarmGate;
  #queue: Pending[] = [];
  #queued = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<void> = Promise.resolve();
  /** Two sets of per-batch buffers: batch b+1 is featurised while batch b's last chunk is still being turned into results. */
  readonly #bufs: BatchBuffers[] = [0, 1].map(() => ({
    rows: new Float32Array(0),
    score: new Float64Array(0),
    flag: new Uint8Array(0),
  }));

  constructor(runner: ModelRunner, options: DetectorOptions) {
    Detector.#checkContract(runner);
    this.#runner = runner;
    this.#o = options;
    this.#engine = new FeatureEngine({ windowMs: options.windowMs, bucketCount: options.bucketCount });
    this.#gate = new AlarmGate({ ...DEFAULT_GATE, ...options.gate });
  }

  /** `name@version` of the model scoring now. */
  /** The runner scoring now (the one `swapModel` last put in). */
  get runner(): ModelRunner {
    return this.#runner;
  }

  get modelVersion(): string {
    return this.#runner.modelVersion;
  }

  /** Tracked sensors (for metrics). */
  get sensorCount(): number {
    return this.#engine.sensorCount;
  }

  /** Scores readings, results in input order. Rejects with SC_ERR_MODEL_LOAD if the runtime fails. */
  process(batch: readonly SensorReading[]): Promise<ScoredReading[]> {
    if (batch.length === 0) return Promise.resolve([]);
    return new Promise<ScoredReading[]>((resolve, reject) => {
      this.#queue.push({ readings: batch, resolve, reject });
      this.#queued += batch.length;
      if (this.#queued >= this.#o.batchSize || this.#o.batchMaxWaitMs === 0) this.#flushNow();
      else this.#timer ??= setTimeout(() => this.#flushNow(), this.#o.batchMaxWaitMs);
    });
  }

  /** BatchDetector (app/ingest.ts) entry: same as `process`. */
  score(readings: readonly SensorReading[]): Promise<readonly ScoredReading[]> {
    return this.process(readings);
  }

  /**
   * Feeds readings into the feature windows without scoring (history replay, backtest fit) and
   * returns their feature rows, FEATURE_COUNT per reading. Serialised with `process`.
   */
  async warm(batch: readonly SensorReading[]): Promise<Float32Array> {
    const out = new Float32Array(batch.length * FEATURE_COUNT);
    await this.#enqueueTask(async () => {
      batch.forEach((r, i) =>
        this.#engine.update(r, out, i * FEATURE_COUNT, this.#gate.isLearning(r.tag.equipmentId)),
      );
    });
    return out;
  }

  /**
   * Replaces the model after the batch in flight; the feature windows are kept (same contract).
   * Returns the previous runner, which the caller closes. Throws SC_ERR_MODEL_CONTRACT if the new
   * model's inputs differ from FEATURE_NAMES (the old model then stays in service).
   */
  async swapModel(next: ModelRunner): Promise<ModelRunner> {
    Detector.#checkContract(next);
    this.#flushNow();
    let previous: ModelRunner = this.#runner;
    await this.#enqueueTask(async () => {
      previous = this.#runner;
      this.#runner = next;
    });
    return previous;
  }

  /**
   * Feature windows + alarm gates as bytes, after the calls queued so far (scale-out checkpoints,
   * docs/scale-out.md). `restoreState` of them continues exactly where this detector was.
   */
  async snapshotState(): Promise<Uint8Array> {
    this.#flushNow();
    let bytes: Uint8Array = new Uint8Array(0);
    await this.#enqueueTask(async () => {
      const w = new StateWriter();
      writeHeader(w, 'AIDT', 1);
      w.bytes(this.#engine.snapshot());
      w.bytes(this.#gate.snapshot());
      bytes = w.finish();
    });
    return bytes;
  }

  /** Replaces windows and gates with a `snapshotState()`; throws StateFormatError on a bad one. */
  async restoreState(bytes: Uint8Array): Promise<void> {
    await this.#enqueueTask(async () => {
      const r = new StateReader(bytes, 'detector snapshot');
      r.header('AIDT', 1);
      const engine = r.bytes('feature windows');
      const gate = r.bytes('alarm gates');
      r.end();
      this.#engine.restore(engine);
      this.#gate.restore(gate);
    });
  }

  static #checkContract(runner: ModelRunner): void {
    const names = runner.inputNames;
    if (names.length !== FEATURE_COUNT || names.some((n, i) => n !== FEATURE_NAMES[i])) {
      throw new SidecarError(
        ERRORS.MODEL_CONTRACT,
        `model ${runner.modelVersion} inputs [${names.join(', ')}] do not equal FEATURE_NAMES [${FEATURE_NAMES.join(', ')}]`,
      );
    }
  }

  #enqueueTask(task: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(task);
    // The chain itself must never stay rejected, or every later call would fail too.
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #flushNow(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    const taken = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    void this.#enqueueTask(async () => {
      const all = taken.length === 1 ? (taken[0] as Pending).readings : taken.flatMap((p) => p.readings);
      try {
        const scored = await this.#scoreAll(all);
        if (taken.length === 1) {
          (taken[0] as Pending).resolve(scored); // the caller's own array, no copy
          return;
        }
        let at = 0;
        for (const p of taken) {
          p.resolve(scored.slice(at, at + p.readings.length));
          at += p.readings.length;
        }
      } catch (e) {
        for (const p of taken) p.reject(e);
      }
    });
  }

  async #scoreAll(all: readonly SensorReading[]): Promise<ScoredReading[]> {
    // Index loops over `all` (no per-chunk slice, no closures per row): this is the per-event hot path.
    const out: ScoredReading[] = new Array<ScoredReading>(all.length);
    const size = this.#o.batchSize;
    const chunks = Math.max(1, this.#o.pipelineChunks ?? DEFAULT_PIPELINE_CHUNKS);
    const runner = this.#runner; // swapModel runs between tasks, never inside one
    for (const b of this.#bufs) {
      if (b.rows.length < size * FEATURE_COUNT) b.rows = new Float32Array(size * FEATURE_COUNT);
      if (b.score.length < size) b.score = new Float64Array(size);
      if (b.flag.length < size) b.flag = new Uint8Array(size);
    }
    let deferred:
      { buf: BatchBuffers; base: number; from: number; to: number; res: ModelOutputs } | undefined;
    for (let base = 0, b = 0; base < all.length; base += size, b++) {
      const n = Math.min(size, all.length - base);
      const buf = this.#bufs[b & 1] as BatchBuffers;
      const rows = buf.rows;
      const chunk = Math.min(n, Math.max(MIN_CHUNK_ROWS, Math.ceil(n / chunks)));
      const runs: Promise<ModelOutputs>[] = [];
      for (let c = 0; c < n; c += chunk) {
        const m = Math.min(chunk, n - c);
        for (let i = c; i < c + m; i++) {
          const r = all[base + i] as SensorReading;
          this.#engine.update(r, rows, i * FEATURE_COUNT, this.#gate.isLearning(r.tag.equipmentId));
        }
        const run = runner.run(rows.subarray(c * FEATURE_COUNT, (c + m) * FEATURE_COUNT), m);
        run.catch(() => undefined); // awaited below; a rejection before that must not count as unhandled
        runs.push(run);
        if (deferred !== undefined) {
          this.#materialise(
            all,
            out,
            deferred.buf,
            deferred.base,
            deferred.from,
            deferred.to,
            deferred.res,
            runner,
          );
          deferred = undefined;
        }
      }
      for (let k = 0; k < runs.length; k++) {
        const res = await (runs[k] as Promise<ModelOutputs>);
        const from = k * chunk;
        const to = Math.min(n, from + chunk);
        // The gate is observed in order and right away: the next batch's features depend on it.
        for (let i = from; i < to; i++) {
          const r = all[base + i] as SensorReading;
          const score = blendScores(
            res.ifScore[i - from] as number,
            res.rfScore[i - from] as number,
            this.#o,
          );
          buf.score[i] = score;
          buf.flag[i] = this.#gate.observe(
            r.tag.equipmentId,
            r.sourceTimestampMs,
            score,
            runner.anomalyThreshold,
          )
            ? 1
            : 0;
        }
        // The result objects of the batch's last chunk are built after the next batch's first run is sent.
        if (k === runs.length - 1 && base + n < all.length) deferred = { buf, base, from, to, res };
        else this.#materialise(all, out, buf, base, from, to, res, runner);
      }
    }
    return out;
  }

  #materialise(
    all: readonly SensorReading[],
    out: ScoredReading[],
    buf: BatchBuffers,
    base: number,
    from: number,
    to: number,
    res: ModelOutputs,
    runner: ModelRunner,
  ): void {
    const rows = buf.rows;
    const line = runner.anomalyThreshold;
    const top = this.#o.explainTop ?? 3;
    for (let i = from; i < to; i++) {
      const r = all[base + i] as SensorReading;
      const off = i * FEATURE_COUNT;
      const score = buf.score[i] as number;
      const isAnomaly = buf.flag[i] === 1;
      out[base + i] = {
        reading: r,
        eventId: eventIdOf(r.tag.tagPath, r.sourceTimestampMs),
        features: featureRecord(rows, off),
        score,
        ifScore: res.ifScore[i - from] as number,
        rfScore: res.rfScore[i - from] as number,
        isAnomaly,
        severity: severityOf(score, line, r.value, r.tag.thresholds),
        modelVersion: runner.modelVersion,
        explanation: isAnomaly ? explainRow(rows, off, top, r.tag) : [],
      };
    }
  }
}
