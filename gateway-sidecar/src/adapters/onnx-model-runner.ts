/**
 * ModelRunner over onnxruntime-node. A model version is a folder with `model.json` and the ONNX
 * file it names; loading checks the file's sha256 (SC_ERR_MODEL_LOAD) and the input contract —
 * declared input names equal the expected feature names in order, the graph has input `features`
 * of that width and outputs `if_score` and `rf_score` (SC_ERR_MODEL_CONTRACT). A user's own model
 * that follows the contract drops in the same way.
 *
 * `{ thread: 'worker' }` puts the session in a worker thread (onnx-worker.ts): onnxruntime-node's
 * `session.run` computes on the calling JS thread, so only a second thread lets the streaming
 * Detector compute features while the model scores (docs/performance.md). The sidecar does this
 * by default (config `ensemble.onnxThread`). The loader's own default is the calling thread:
 * one-shot callers (backtest, retrain evaluation) gain nothing from a thread that costs ~0.3 s to
 * start. Both give bit-identical scores (same runtime, same options; tested).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { ERRORS, SidecarError } from '../errors.ts';
import type { ModelOutputs, ModelRunner } from '../ports.ts';
import type { FromWorker, ToWorker, WorkerInit } from './onnx-worker.ts';

/** Where and how the ONNX session runs (config `ensemble.onnx*`, docs/config.md). */
export interface OnnxRunnerOptions {
  /** 'worker': a worker thread of its own; 'main' (default): the calling thread. */
  readonly thread?: 'worker' | 'main';
  /** onnxruntime intra-op threads (default 1). */
  readonly intraOpThreads?: number;
  /** onnxruntime inter-op threads (default 1); above 1 the two forests may run in parallel. */
  readonly interOpThreads?: number;
}

/** The runner options of config `ensemble` (docs/config.md). */
export function onnxRunnerOptionsOf(e: {
  readonly onnxThread: 'worker' | 'main';
  readonly onnxIntraOpThreads: number;
  readonly onnxInterOpThreads: number;
}): OnnxRunnerOptions {
  return { thread: e.onnxThread, intraOpThreads: e.onnxIntraOpThreads, interOpThreads: e.onnxInterOpThreads };
}

/** The `model.json` descriptor beside each ONNX file (documented in models/README.md). */
export const modelDescriptorSchema = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    file: z.string().min(1).default('model.onnx'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    inputs: z.array(z.string().min(1)).min(1),
    outputs: z.array(z.string()).default(['if_score', 'rf_score']),
    thresholds: z.object({ anomaly: z.number().gt(0).lt(1) }).passthrough(),
  })
  .passthrough();
export type ModelDescriptor = z.infer<typeof modelDescriptorSchema>;

const INPUT = 'features';
const OUTPUTS = ['if_score', 'rf_score'];

class InlineModelRunner implements ModelRunner {
  readonly #session: ort.InferenceSession;
  readonly modelVersion: string;
  readonly inputNames: readonly string[];
  readonly anomalyThreshold: number;

  constructor(session: ort.InferenceSession, d: ModelDescriptor) {
    this.#session = session;
    this.modelVersion = `${d.name}@${d.version}`;
    this.inputNames = d.inputs;
    this.anomalyThreshold = d.thresholds.anomaly;
  }

  async run(features: Float32Array, rows: number): Promise<ModelOutputs> {
    const width = this.inputNames.length;
    checkRows(this.modelVersion, features, rows, width);
    const data = features.length === rows * width ? features : features.subarray(0, rows * width);
    try {
      const out = await this.#session.run({ [INPUT]: new ort.Tensor('float32', data, [rows, width]) });
      return { ifScore: out.if_score?.data as Float32Array, rfScore: out.rf_score?.data as Float32Array };
    } catch (cause) {
      throw new SidecarError(
        ERRORS.MODEL_LOAD,
        `model ${this.modelVersion} failed to score ${rows} rows: ${String(cause)}`,
        { cause },
      );
    }
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}

function checkRows(model: string, features: Float32Array, rows: number, width: number): void {
  if (!Number.isInteger(rows) || rows < 0 || features.length < rows * width) {
    throw new SidecarError(
      ERRORS.MODEL_LOAD,
      `model ${model}: asked to score ${rows} rows of ${width} features from ${features.length} values`,
    );
  }
}

interface InFlight {
  readonly resolve: (o: ModelOutputs) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * The session in a worker thread. Runs are answered in the order they were sent (the worker
 * handles one message at a time). The thread is unref'd while idle, so a runner nobody closes
 * does not keep the process alive, and ref'd while a run is in flight.
 */
class WorkerModelRunner implements ModelRunner {
  readonly #worker: Worker;
  readonly modelVersion: string;
  readonly inputNames: readonly string[];
  readonly anomalyThreshold: number;
  readonly #inFlight = new Map<number, InFlight>();
  #nextId = 0;
  #stopped: SidecarError | undefined;
  #exited: Promise<void>;

  constructor(worker: Worker, d: ModelDescriptor) {
    this.#worker = worker;
    this.modelVersion = `${d.name}@${d.version}`;
    this.inputNames = d.inputs;
    this.anomalyThreshold = d.thresholds.anomaly;
    worker.on('message', (m: FromWorker) => this.#answer(m));
    worker.on('error', (e) => this.#stop(`its worker thread failed: ${String(e)}`));
    this.#exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.#stop(`its worker thread exited (code ${code})`);
        resolve();
      }),
    );
    worker.unref();
  }

  run(features: Float32Array, rows: number): Promise<ModelOutputs> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    const width = this.inputNames.length;
    try {
      checkRows(this.modelVersion, features, rows, width);
    } catch (e) {
      return Promise.reject(e);
    }
    // A copy with a buffer of its own: posting a view would clone its whole underlying buffer, and
    // the caller may overwrite its rows as soon as this returns.
    const data = features.slice(0, rows * width);
    const id = this.#nextId++;
    return new Promise<ModelOutputs>((resolve, reject) => {
      if (this.#inFlight.size === 0) this.#worker.ref();
      this.#inFlight.set(id, { resolve, reject });
      this.#worker.postMessage({ type: 'run', id, data, rows, width } satisfies ToWorker, [data.buffer]);
    });
  }

  async close(): Promise<void> {
    if (this.#stopped === undefined) {
      this.#worker.ref();
      this.#worker.postMessage({ type: 'close' } satisfies ToWorker);
    }
    await this.#exited;
  }

  #answer(m: FromWorker): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    const f = this.#inFlight.get(m.id);
    if (f === undefined) return;
    this.#inFlight.delete(m.id);
    if (this.#inFlight.size === 0) this.#worker.unref();
    if (m.type === 'result') f.resolve({ ifScore: m.ifScore, rfScore: m.rfScore });
    else
      f.reject(
        new SidecarError(ERRORS.MODEL_LOAD, `model ${this.modelVersion} failed to score: ${m.message}`),
      );
  }

  #stop(why: string): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = new SidecarError(ERRORS.MODEL_LOAD, `model ${this.modelVersion} is closed: ${why}`);
    for (const f of this.#inFlight.values()) f.reject(this.#stopped);
    this.#inFlight.clear();
  }
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
function startWorker(
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

function contractError(msg: string): SidecarError {
  return new SidecarError(ERRORS.MODEL_CONTRACT, msg);
}

/** Checks declared inputs against the expected feature names, in order. */
export function checkInputContract(declared: readonly string[], expected: readonly string[]): void {
  if (declared.length !== expected.length) {
    throw contractError(
      `model declares ${declared.length} inputs, the feature contract has ${expected.length} (${expected.join(', ')})`,
    );
  }
  const i = declared.findIndex((n, k) => n !== expected[k]);
  if (i >= 0)
    throw contractError(
      `model input ${i} is '${declared[i]}', the feature contract expects '${expected[i]}'`,
    );
}

/**
 * Loads ONNX bytes plus their descriptor. Throws SC_ERR_MODEL_LOAD (bad bytes or hash) or
 * SC_ERR_MODEL_CONTRACT (inputs/outputs do not follow the contract).
 */
export async function loadOnnxModelBytes(
  bytes: Uint8Array,
  descriptor: unknown,
  expectedInputs: readonly string[],
  options: OnnxRunnerOptions = {},
): Promise<ModelRunner> {
  const parsed = modelDescriptorSchema.safeParse(descriptor);
  if (!parsed.success) {
    throw contractError(
      `model.json is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const d = parsed.data;
  const hash = createHash('sha256').update(bytes).digest('hex');
  if (hash !== d.sha256)
    throw new SidecarError(
      ERRORS.MODEL_LOAD,
      `model ${d.name}@${d.version}: sha256 of ${d.file} is ${hash}, model.json says ${d.sha256}`,
    );
  checkInputContract(d.inputs, expectedInputs);
  // One intra-op thread by default: tree ensembles on a few hundred rows gain nothing from a pool,
  // and on a busy 2-core host the pool's contention halved throughput (measured 20.5k vs 46.8k rows/s).
  const interOp = options.interOpThreads ?? 1;
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: interOp,
    executionMode: interOp > 1 ? 'parallel' : 'sequential',
    graphOptimizationLevel: 'all',
  };
  let inputNames: readonly string[];
  let outputNames: readonly string[];
  let release: () => Promise<void>;
  let make: () => ModelRunner;
  try {
    if (options.thread === 'worker') {
      const w = await startWorker(bytes, sessionOptions);
      ({ inputNames, outputNames } = w);
      const runner = new WorkerModelRunner(w.worker, d);
      release = () => runner.close();
      make = () => runner;
    } else {
      const session = await ort.InferenceSession.create(bytes, sessionOptions);
      ({ inputNames, outputNames } = session);
      release = () => session.release();
      make = () => new InlineModelRunner(session, d);
    }
  } catch (cause) {
    throw new SidecarError(
      ERRORS.MODEL_LOAD,
      `model ${d.name}@${d.version}: onnxruntime cannot load ${d.file}: ${String(cause)}`,
      { cause },
    );
  }
  const missing = OUTPUTS.filter((o) => !outputNames.includes(o));
  if (!inputNames.includes(INPUT) || missing.length > 0) {
    await release();
    throw contractError(
      `model ${d.name}@${d.version} must have input '${INPUT}' and outputs ${OUTPUTS.join(', ')}; has inputs [${inputNames.join(', ')}], outputs [${outputNames.join(', ')}]`,
    );
  }
  return make();
}

/** Loads `<dir>/model.json` and the ONNX file it names. */
export async function loadOnnxModelDir(
  dir: string,
  expectedInputs: readonly string[],
  options: OnnxRunnerOptions = {},
): Promise<ModelRunner> {
  let descriptor: unknown;
  let bytes: Uint8Array;
  try {
    descriptor = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    const file = (descriptor as { file?: unknown }).file;
    bytes = await readFile(join(dir, typeof file === 'string' ? file : 'model.onnx'));
  } catch (cause) {
    throw new SidecarError(ERRORS.MODEL_LOAD, `cannot read model version in '${dir}': ${String(cause)}`, {
      cause,
    });
  }
  return loadOnnxModelBytes(bytes, descriptor, expectedInputs, options);
}
