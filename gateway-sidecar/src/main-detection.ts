/**
 * Detection wiring shared by main.ts and the e2e bench: the ONNX ensemble (features + model from
 * `ensemble.modelDir`, default the newest `models/if-rf-ensemble/<version>`) when a model version loads, otherwise the fallback
 * z-score detector with warning SC_WRN_003, so the pipeline keeps running and /health says the
 * model is degraded instead of the sidecar refusing to start.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.ts';
import { SidecarError } from './errors.ts';
import { WARNINGS } from './errors.ts';
import type { EquipmentIndex } from './domain/equipment.ts';
import { FEATURE_NAMES } from './domain/features.ts';
import type { Logger } from './log.ts';
import type { BatchDetector } from './app/ingest.ts';
import { Detector } from './app/detector.ts';
import { FallbackDetector, FALLBACK_MODEL_VERSION } from './app/fallback-detector.ts';
import { loadOnnxModelDir, onnxRunnerOptionsOf } from './adapters/onnx-model-runner.ts';

export const MODELS_ROOT = fileURLToPath(new URL('../../models/', import.meta.url));
const SHIPPED_MODEL = 'if-rf-ensemble';

/** `models/if-rf-ensemble/<highest version>` (versions compare numerically: 1.10.0 > 1.9.0). */
export function shippedModelDir(root: string = MODELS_ROOT): string {
  const base = join(root, SHIPPED_MODEL);
  const versions = existsSync(base)
    ? readdirSync(base).filter((v) => existsSync(join(base, v, 'model.json')))
    : [];
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const latest = versions[versions.length - 1];
  return latest === undefined ? base : join(base, latest);
}

export interface DetectionHandle {
  readonly detector: BatchDetector;
  readonly modelVersion: string;
  health(): { state: 'up' | 'degraded' | 'down'; detail: string };
  close(): Promise<void>;
}

export async function createDetection(
  config: Config,
  _index: EquipmentIndex,
  logger: Logger,
): Promise<DetectionHandle> {
  const dir = config.ensemble.modelDir ?? shippedModelDir();
  try {
    const runner = await loadOnnxModelDir(dir, FEATURE_NAMES, onnxRunnerOptionsOf(config.ensemble));
    const detector = new Detector(runner, {
      windowMs: config.features.windowMs,
      bucketCount: config.features.bucketCount,
      ifWeight: config.ensemble.ifWeight,
      rfWeight: config.ensemble.rfWeight,
      batchSize: config.ensemble.batchSize,
      batchMaxWaitMs: config.ensemble.batchMaxWaitMs,
      pipelineChunks: config.ensemble.pipelineChunks,
    });
    logger.info({ modelDir: dir, modelVersion: runner.modelVersion }, 'onnx ensemble loaded');
    return {
      detector,
      modelVersion: runner.modelVersion,
      health: () => ({ state: 'up', detail: runner.modelVersion }),
      close: () => runner.close(),
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
      health: () => ({
        state: 'degraded',
        detail: `${FALLBACK_MODEL_VERSION} (${err.code}: ${err.message})`,
      }),
      close: async () => undefined,
    };
  }
}
