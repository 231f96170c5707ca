/**
 * Detection wiring shared by main.ts and the e2e bench: the ONNX ensemble (features + model from
 * `ensemble.modelDir`, default the newest shipped `models/if-rf-ensemble/<version>`) when a model version loads, otherwise the fallback
 * z-score detector with warning SC_WRN_003, so the pipeline keeps running and /health says the
 * model is degraded instead of the sidecar refusing to start.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.ts';
import { ERRORS, SidecarError } from './errors.ts';
import { WARNINGS } from './errors.ts';
import type { EquipmentIndex } from './domain/equipment.ts';
import { FEATURE_NAMES } from './domain/features.ts';
import type { Logger } from './log.ts';
import type { BatchDetector } from './app/ingest.ts';
import type { ModelRunner } from './ports.ts';
import { Detector, type DetectorOptions } from './app/detector.ts';
import { FallbackDetector, FALLBACK_MODEL_VERSION } from './app/fallback-detector.ts';
import {
  loadOnnxModelDir,
  onnxRunnerOptionsOf,
  workerHealthOf,
  type OnnxRunnerOptions,
  type WorkerEvent,
} from './adapters/onnx-model-runner.ts';

export const MODELS_ROOT = fileURLToPath(new URL('../../models/', import.meta.url));
const SHIPPED_MODEL = 'if-rf-ensemble';

/** A shipped version folder is named by a release number (1.1.0); retrained ones are `r<time>`. */
const SHIPPED_VERSION = /^\d+(\.\d+)*$/;

/**
 * `models/if-rf-ensemble/<highest shipped version>` (versions compare numerically: 1.10.0 > 1.9.0).
 * Only release-numbered folders count: `npm run retrain` writes its candidates (`r<time>`, refused
 * ones too) into the same folder by default, and which of those serves is the registry's decision,
 * never the folder listing's.
 */
export function shippedModelDir(root: string = MODELS_ROOT): string {
  const base = join(root, SHIPPED_MODEL);
  const versions = existsSync(base)
    ? readdirSync(base).filter((v) => SHIPPED_VERSION.test(v) && existsSync(join(base, v, 'model.json')))
    : [];
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const latest = versions[versions.length - 1];
  return latest === undefined ? base : join(base, latest);
}

export interface DetectionHandle {
  readonly detector: BatchDetector;
  readonly modelVersion: string;
  /**
   * The ONNX runner scoring now — after a hot swap the swapped-in one (diagnostics:
   * `crashModelWorker`, worker state); undefined on the fallback.
   */
  readonly runner?: ModelRunner;
  /**
   * Options for loading a model that will replace the running one (learning's hot swap): the
   * configured runner options plus this handle's worker-death logging and restart counting, so a
   * swapped-in model's worker deaths are logged, counted and shown in `health()` like the first one's.
   */
  readonly runnerOptions: OnnxRunnerOptions;
  health(): { state: 'up' | 'degraded' | 'down'; detail: string };
  close(): Promise<void>;
}

/** Counts restarts of the ONNX worker thread (SidecarMetrics, `sidecar_model_worker_restarts_total`). */
export interface ModelWorkerObserver {
  modelWorkerRestart(): void;
}

/** The Detector's options from the configuration (windows, ensemble weights, micro-batching). */
export function detectorOptionsOf(config: Config): DetectorOptions {
  return {
    windowMs: config.features.windowMs,
    bucketCount: config.features.bucketCount,
    ifWeight: config.ensemble.ifWeight,
    rfWeight: config.ensemble.rfWeight,
    batchSize: config.ensemble.batchSize,
    batchMaxWaitMs: config.ensemble.batchMaxWaitMs,
    pipelineChunks: config.ensemble.pipelineChunks,
  };
}

export async function createDetection(
  config: Config,
  _index: EquipmentIndex,
  logger: Logger,
  observer?: ModelWorkerObserver,
): Promise<DetectionHandle> {
  const dir = config.ensemble.modelDir ?? shippedModelDir();
  const onWorkerEvent = (e: WorkerEvent): void => {
    if (e.type === 'died') {
      observer?.modelWorkerRestart();
      logger.warn(
        {
          code: ERRORS.MODEL_WORKER.code,
          cause: e.cause,
          inFlight: e.inFlight,
          restartInMs: e.restartInMs,
          restarts: e.restarts,
        },
        'onnx worker thread died; restarting it, runs in flight will be sent again',
      );
    } else if (e.type === 'restarted') {
      logger.info({ restarts: e.restarts, resent: e.resent }, 'onnx worker thread restarted');
    } else {
      logger.error(
        { code: ERRORS.MODEL_WORKER.code, cause: e.cause, rejected: e.rejected },
        'onnx worker thread died too often; model scoring stopped until the sidecar is restarted',
      );
    }
  };
  const runnerOptions: OnnxRunnerOptions = { ...onnxRunnerOptionsOf(config.ensemble), onWorkerEvent };
  try {
    const first = await loadOnnxModelDir(dir, FEATURE_NAMES, runnerOptions);
    const detector = new Detector(first, detectorOptionsOf(config));
    logger.info({ modelDir: dir, modelVersion: first.modelVersion }, 'onnx ensemble loaded');
    return {
      detector,
      modelVersion: first.modelVersion,
      get runner() {
        return detector.runner;
      },
      runnerOptions,
      health: () => {
        const runner = detector.runner;
        const w = workerHealthOf(runner);
        if (w?.state === 'failed')
          return { state: 'down', detail: `${runner.modelVersion} (${w.error?.code}: ${w.error?.message})` };
        if (w === undefined || w.restarts === 0) return { state: 'up', detail: runner.modelVersion };
        const last = `worker thread restarted ${w.restarts} times, last cause: ${w.lastCause}`;
        return w.state === 'restarting'
          ? { state: 'degraded', detail: `${runner.modelVersion} (restarting; ${last})` }
          : { state: 'up', detail: `${runner.modelVersion} (${last})` };
      },
      close: () => detector.runner.close(),
    };
  } catch (err) {
    // A broken model must not take the sidecar down: alerts, the API and the data still flow.
    if (!(err instanceof SidecarError)) throw err;
    logger.warn(
      { code: WARNINGS.MODEL_FALLBACK.code, err, modelDir: dir, modelVersion: FALLBACK_MODEL_VERSION },
      'no ONNX model version could be loaded; scoring with the fallback z-score detector',
    );
    return {
      detector: new FallbackDetector(),
      modelVersion: FALLBACK_MODEL_VERSION,
      runnerOptions,
      health: () => ({
        state: 'degraded',
        detail: `${FALLBACK_MODEL_VERSION} (${err.code}: ${err.message})`,
      }),
      close: async () => undefined,
    };
  }
}
