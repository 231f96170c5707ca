/**
 * The worker-thread ModelRunner (`thread: 'worker'` of onnx-model-runner.ts) and its supervision:
 * a thread that dies is restarted from the same model bytes with backoff, its runs in flight are
 * sent again, and after too many deaths within a minute the runner stays failed
 * (SC_ERR_MODEL_WORKER). docs/performance.md, "Worker restart".
 */
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { ERRORS, SidecarError } from '../errors.ts';
import type { ModelOutputs, ModelRunner } from '../ports.ts';
import type { FromWorker, ToWorker, WorkerInit } from './onnx-worker.ts';

/** What the runner needs of `model.json` (ModelDescriptor in onnx-model-runner.ts). */
interface Descriptor {
  readonly name: string;
  readonly version: string;
  readonly inputs: readonly string[];
  readonly thresholds: { readonly anomaly: number };
}

export function checkRows(model: string, features: Float32Array, rows: number, width: number): void {
  if (!Number.isInteger(rows) || rows < 0 || features.length < rows * width) {
    throw new SidecarError(
      ERRORS.MODEL_LOAD,
      `model ${model}: asked to score ${rows} rows of ${width} features from ${features.length} values`,
    );
  }
}

interface InFlight {
  /** The rows, kept so the run can be sent again to a restarted thread. */
  readonly data: Float32Array;
  readonly rows: number;
  readonly width: number;
  readonly resolve: (o: ModelOutputs) => void;
  readonly reject: (e: unknown) => void;
}

/** What the worker runner reports about its thread (`onWorkerEvent`); main-detection.ts logs and counts it. */
export type WorkerEvent =
  | {
      /** The thread died on its own; a restart is scheduled and the runs in flight wait for it. */
      readonly type: 'died';
      readonly cause: string;
      readonly inFlight: number;
      readonly restartInMs: number;
      /** Restarts begun so far, this one included. */
      readonly restarts: number;
    }
  | { readonly type: 'restarted'; readonly restarts: number; readonly resent: number }
  | {
      /** Too many deaths within a minute: the runner stays failed (SC_ERR_MODEL_WORKER). */
      readonly type: 'failed';
      readonly cause: string;
      readonly rejected: number;
    };

/** State of the worker thread behind a runner, for /health (main-detection.ts). */
export interface WorkerHealth {
  readonly state: 'up' | 'restarting' | 'failed' | 'closed';
  /** Restarts begun since load. */
  readonly restarts: number;
  /** Why the thread last died, if it ever did. */
  readonly lastCause: string | undefined;
  /** The error every run gets once failed. */
  readonly error: SidecarError | undefined;
}

/** Restart policy of a worker runner whose thread dies (docs/performance.md, "Worker restart"). */
export interface WorkerRestartPolicy {
  /** Delay before the first restart; doubles per death without a scored run in between (default 100). */
  readonly firstDelayMs?: number;
  /** Largest delay (default 5,000). */
  readonly maxDelayMs?: number;
  /** Deaths tolerated within any 60 s; the next one leaves the runner failed (default 5). */
  readonly maxRestartsPerMinute?: number;
}

const RESTART_WINDOW_MS = 60_000;

/**
 * The session in a worker thread. Runs are answered in the order they were sent (the worker
 * handles one message at a time). The thread is unref'd while idle, so a runner nobody closes
 * does not keep the process alive, and ref'd while a run is in flight.
 *
 * Supervision: when the thread dies without close() (an uncaught error, out of memory,
 * process.exit inside it, terminate), a new thread is started from the same model bytes and
 * session options after a backoff, and the runs that were in flight are sent to it again, in
 * order; runs made meanwhile wait. A run is a pure function of its rows, so the caller gets the
 * scores it would have got without the death (bit-identical, tested) and the Detector's feature
 * windows, which were already advanced for those rows, are not fed them a second time (a rejection
 * would make ingest re-score the batch and featurise its readings twice). After more than
 * `maxRestartsPerMinute` deaths within 60 s the runner gives up: every waiting and later run is
 * rejected with SC_ERR_MODEL_WORKER naming the last cause, and /health reports the model down.
 */
export class WorkerModelRunner implements ModelRunner {
  #worker: Worker | undefined;
  readonly #bytes: Uint8Array;
  readonly #options: ort.InferenceSession.SessionOptions;
  readonly #policy: Required<WorkerRestartPolicy>;
  readonly #onEvent: ((e: WorkerEvent) => void) | undefined;
  readonly modelVersion: string;
  readonly inputNames: readonly string[];
  readonly anomalyThreshold: number;
  readonly #inFlight = new Map<number, InFlight>();
  #nextId = 0;
  #state: WorkerHealth['state'] = 'up';
  /** Set once closed or failed: the error every later run gets. */
  #stopped: SidecarError | undefined;
  #closing = false;
  #exited: Promise<void> = Promise.resolve();
  #deaths: number[] = [];
  #restarts = 0;
  #delayMs: number;
  #lastCause: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    worker: Worker,
    d: Descriptor,
    bytes: Uint8Array,
    options: ort.InferenceSession.SessionOptions,
    policy: WorkerRestartPolicy,
    onEvent: ((e: WorkerEvent) => void) | undefined,
  ) {
    this.modelVersion = `${d.name}@${d.version}`;
    this.inputNames = d.inputs;
    this.anomalyThreshold = d.thresholds.anomaly;
    this.#bytes = bytes;
    this.#options = options;
    this.#policy = {
      firstDelayMs: policy.firstDelayMs ?? 100,
      maxDelayMs: policy.maxDelayMs ?? 5_000,
      maxRestartsPerMinute: policy.maxRestartsPerMinute ?? 5,
    };
    this.#delayMs = this.#policy.firstDelayMs;
    this.#onEvent = onEvent;
    this.#attach(worker);
  }

  health(): WorkerHealth {
    return { state: this.#state, restarts: this.#restarts, lastCause: this.#lastCause, error: this.#stopped };
  }

  run(features: Float32Array, rows: number): Promise<ModelOutputs> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    const width = this.inputNames.length;
    try {
      checkRows(this.modelVersion, features, rows, width);
    } catch (e) {
      return Promise.reject(e);
    }
    // A copy with a buffer of its own: the caller may overwrite its rows as soon as this returns,
    // and the copy is what a restarted thread is sent. Posted by structured clone (not transfer),
    // so it stays readable here until the run is answered.
    const data = features.slice(0, rows * width);
    const id = this.#nextId++;
    return new Promise<ModelOutputs>((resolve, reject) => {
      if (this.#inFlight.size === 0) {
        this.#worker?.ref();
        this.#timer?.ref(); // a restart pending since an idle death now has a run waiting for it
      }
      this.#inFlight.set(id, { data, rows, width, resolve, reject });
      // While restarting, the run waits in #inFlight and is sent when the new thread is ready.
      this.#worker?.postMessage({ type: 'run', id, data, rows, width } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const w = this.#worker;
    if (this.#stopped === undefined && w !== undefined) {
      w.ref();
      w.postMessage({ type: 'close' } satisfies ToWorker);
    } else if (this.#stopped === undefined) {
      // Closed between a death and its restart: nothing runs any more.
      this.#stop(this.#closedError('closed while its worker thread was restarting'), 'closed');
    }
    await this.#exited;
  }

  /** Diagnostic (see onnx-worker.ts 'crash'): the thread dies on its next run, or now ('terminate'). */
  crash(how: 'throw' | 'exit' | 'terminate'): void {
    const w = this.#worker;
    if (w === undefined || this.#state !== 'up')
      throw new SidecarError(
        ERRORS.MODEL_WORKER,
        `model ${this.modelVersion}: no worker thread is up (${this.#state})`,
      );
    if (how === 'terminate') void w.terminate();
    else w.postMessage({ type: 'crash', how } satisfies ToWorker);
  }

  #attach(worker: Worker): void {
    this.#worker = worker;
    this.#state = 'up';
    let gone = false;
    const died = (why: string): void => {
      if (gone) return;
      gone = true;
      this.#died(worker, why);
    };
    worker.on('message', (m: FromWorker) => this.#answer(m));
    worker.on('error', (e) => died(`its worker thread failed: ${String(e)}`));
    this.#exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        died(`its worker thread exited (code ${code})`);
        resolve();
      }),
    );
    if (this.#inFlight.size === 0) worker.unref();
  }

  #answer(m: FromWorker): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    const f = this.#inFlight.get(m.id);
    if (f === undefined) return;
    this.#inFlight.delete(m.id);
    if (this.#inFlight.size === 0) this.#worker?.unref();
    if (m.type === 'result') {
      this.#delayMs = this.#policy.firstDelayMs; // a thread that scores is healthy again
      f.resolve({ ifScore: m.ifScore, rfScore: m.rfScore });
    } else
      f.reject(
        new SidecarError(ERRORS.MODEL_LOAD, `model ${this.modelVersion} failed to score: ${m.message}`),
      );
  }

  #died(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    if (this.#closing || this.#stopped !== undefined) {
      this.#stop(this.#closedError(why), 'closed');
      return;
    }
    // Never leave a half-dead thread behind (an 'error' comes before its 'exit').
    void worker.terminate();
    this.#death(why);
  }

  /** Restart after a backoff, or give up when the thread died too often within a minute. */
  #death(why: string): void {
    this.#lastCause = why;
    const now = Date.now();
    this.#deaths = this.#deaths.filter((t) => now - t < RESTART_WINDOW_MS);
    this.#deaths.push(now);
    if (this.#deaths.length > this.#policy.maxRestartsPerMinute) {
      const rejected = this.#inFlight.size;
      this.#stop(
        new SidecarError(
          ERRORS.MODEL_WORKER,
          `model ${this.modelVersion}: its worker thread died ${this.#deaths.length} times within 60 s ` +
            `(more than ${this.#policy.maxRestartsPerMinute}); not restarting again, restart the sidecar. Last cause: ${why}`,
        ),
        'failed',
      );
      this.#onEvent?.({ type: 'failed', cause: why, rejected });
      return;
    }
    this.#restarts++;
    this.#state = 'restarting';
    const delay = this.#delayMs;
    this.#delayMs = Math.min(this.#policy.maxDelayMs, this.#delayMs * 2);
    this.#onEvent?.({
      type: 'died',
      cause: why,
      inFlight: this.#inFlight.size,
      restartInMs: delay,
      restarts: this.#restarts,
    });
    this.#timer = setTimeout(() => this.#restart(), delay);
    if (this.#inFlight.size === 0) this.#timer.unref();
  }

  #restart(): void {
    this.#timer = undefined;
    startWorker(this.#bytes, this.#options).then(
      ({ worker }) => {
        if (this.#closing || this.#stopped !== undefined) {
          void worker.terminate();
          return;
        }
        this.#attach(worker);
        if (this.#inFlight.size > 0) worker.ref();
        for (const [id, f] of this.#inFlight)
          worker.postMessage({
            type: 'run',
            id,
            data: f.data,
            rows: f.rows,
            width: f.width,
          } satisfies ToWorker);
        this.#onEvent?.({ type: 'restarted', restarts: this.#restarts, resent: this.#inFlight.size });
      },
      (cause: unknown) => {
        if (this.#closing || this.#stopped !== undefined) return;
        // A thread that cannot even start counts as another death (same backoff and cap).
        this.#death(`a restarted worker thread did not start: ${String(cause)}`);
      },
    );
  }

  #closedError(why: string): SidecarError {
    return new SidecarError(ERRORS.MODEL_LOAD, `model ${this.modelVersion} is closed: ${why}`);
  }

  #stop(error: SidecarError, state: 'closed' | 'failed'): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = error;
    this.#state = state;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const f of this.#inFlight.values()) f.reject(error);
    this.#inFlight.clear();
  }
}

/** The worker thread's state when `runner` is a worker runner (`thread: 'worker'`), else undefined. */
export function workerHealthOf(runner: ModelRunner): WorkerHealth | undefined {
  return runner instanceof WorkerModelRunner ? runner.health() : undefined;
}

/**
 * Diagnostic: makes the worker thread of `runner` die — 'throw' (uncaught error) or 'exit'
 * (process.exit(70)) on its next run, leaving that run in flight; 'terminate' at once. The runner
 * then restarts it as in production. Throws if `runner` is not a worker runner or its thread is not up.
 */
export function crashModelWorker(runner: ModelRunner, how: 'throw' | 'exit' | 'terminate'): void {
  if (!(runner instanceof WorkerModelRunner))
    throw new SidecarError(
      ERRORS.MODEL_WORKER,
      `model ${runner.modelVersion} does not run in a worker thread`,
    );
  runner.crash(how);
}

/**
 * The worker's entry module. Under tsx (sources run as .ts) Node 20 does not apply the loader to a
 * worker's entry file, so a one-line data: module registers tsx in the worker first.
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./onnx-worker.js', import.meta.url);
  const entry = new URL('./onnx-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const src = `import { register } from ${JSON.stringify(tsx)};\nregister();\nawait import(${JSON.stringify(entry)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(src)}`);
}

/** Starts the worker and waits for its session (or its failure). */
export function startWorker(
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
): Promise<{ worker: Worker; inputNames: readonly string[]; outputNames: readonly string[] }> {
  const worker = new Worker(workerEntry(), { workerData: { bytes, options } satisfies WorkerInit });
  return new Promise((resolve, reject) => {
    const onExit = (code: number): void =>
      reject(new Error(`worker thread exited with code ${code} before the session was ready`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (m: FromWorker) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (m.type === 'ready') resolve({ worker, inputNames: m.inputNames, outputNames: m.outputNames });
      else reject(new Error(m.type === 'failed' ? m.message : `unexpected first message '${m.type}'`));
    });
  });
}
