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
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { ERRORS, SidecarError } from '../errors.ts';
import type { ModelOutputs, ModelRunner } from '../ports.ts';
import {
  checkRows,
  startWorker,
  WorkerModelRunner,
  type WorkerEvent,
  type WorkerRestartPolicy,
} from './onnx-worker-runner.ts';

export {
  crashModelWorker,
  workerHealthOf,
  type WorkerEvent,
  type WorkerHealth,
  type WorkerRestartPolicy,
} from './onnx-worker-runner.ts';

/** Where and how the ONNX session runs (config `ensemble.onnx*`, docs/config.md). */
export interface OnnxRunnerOptions {
  /** 'worker': a worker thread of its own; 'main' (default): the calling thread. */
  readonly thread?: 'worker' | 'main';
  /** onnxruntime intra-op threads (default 1). */
  readonly intraOpThreads?: number;
  /** onnxruntime inter-op threads (default 1); above 1 the two forests may run in parallel. */
  readonly interOpThreads?: number;
  /** 'worker' only: backoff and cap when the thread dies (defaults 100 ms doubling to 5 s, 5 per minute). */
  readonly workerRestart?: WorkerRestartPolicy;
  /** 'worker' only: told of each death, restart and final failure of the thread (logs, metrics). */
  readonly onWorkerEvent?: (e: WorkerEvent) => void;
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
      const runner = new WorkerModelRunner(
        w.worker,
        d,
        bytes.slice(), // kept for restarts; the caller's array may be reused
        sessionOptions,
        options.workerRestart ?? {},
        options.onWorkerEvent,
      );
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
