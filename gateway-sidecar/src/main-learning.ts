/**
 * Learning wiring for main.ts (and the retrain CLI): the Learning service (create it before the
 * recommendations service so its `confidence` can be passed in), then `startLearningLoops` once
 * detection and recommendations exist:
 *  - pattern confidence reloaded after every decided recommendation;
 *  - every `learning.checkIntervalMs`: outcome checks, drift vs the active version's training
 *    baseline, human metrics → pipeline_metrics.extra.learning and /metrics; and the registry's
 *    active version hot-swapped in when it differs from the one serving (after a CLI
 *    `--promote` / `--rollback`);
 *  - the retrain schedule (`learning.retrainCron`) when `learning.retrainEnabled`.
 */
import type pg from 'pg';
import { join } from 'node:path';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { systemClock, type Clock, type ModelRunner } from './ports.ts';
import { FEATURE_NAMES } from './domain/features.ts';
import type { DriftAlertNotice, DriftBaseline } from './domain/learning/drift.ts';
import { Learning } from './app/learning.ts';
import { retrain, type RetrainDeps, type RetrainResult } from './app/learning-retrain.ts';
import { startRetrainSchedule } from './app/learning-schedule.ts';
import { Detector } from './app/detector.ts';
import type { BatchDetector } from './app/ingest.ts';
import type { Actor, Change } from './app/recommendation-service.ts';
import { PgLearningStore } from './adapters/pg-learning-store.ts';
import { PgModelRegistry } from './adapters/pg-model-registry.ts';
import { ModelFiles } from './adapters/model-files.ts';
import {
  loadOnnxModelDir,
  onnxRunnerOptionsOf,
  type OnnxRunnerOptions,
} from './adapters/onnx-model-runner.ts';
import { registerLearningMetrics } from './adapters/prom-learning-metrics.ts';
import type { Registry } from './adapters/prom-registry.ts';
import { MODELS_ROOT, shippedModelDir } from './main-detection.ts';
import { MODEL_NAME } from './ml/ensemble-training.ts';

/** The actor of automatic reverts in the audit trail. */
const SYSTEM_ACTOR: Actor = { user: 'learning', roles: ['engineer'], via: 'token' };

export function createLearning(
  config: Config,
  pool: pg.Pool,
  logger: Logger,
  o: {
    revert?: (id: string, note: string) => Promise<unknown>;
    clock?: Clock;
  } = {},
): Learning {
  return new Learning({
    store: new PgLearningStore(pool),
    clock: o.clock ?? systemClock,
    logger: logger.child({ component: 'learning' }),
    config: config.learning,
    ...(o.revert ? { revert: o.revert } : {}),
  });
}

/** Everything retrain() needs, from the config and the pool (shared by the CLI and the schedule). */
export function retrainDeps(
  config: Config,
  pool: pg.Pool,
  logger: Logger,
  extra: Partial<Pick<RetrainDeps, 'detector' | 'progress'>> = {},
): RetrainDeps {
  const registry = new PgModelRegistry(pool);
  return {
    store: new PgLearningStore(pool),
    registry,
    artifacts: new ModelFiles(
      config.learning.modelsDir ?? join(MODELS_ROOT, MODEL_NAME),
      { ifWeight: config.ensemble.ifWeight, rfWeight: config.ensemble.rfWeight },
      onnxRunnerOptionsOf(config.ensemble),
    ),
    clock: systemClock,
    logger,
    currentModel: async () =>
      loadOnnxModelDir(
        (await registry.active())?.path ?? config.ensemble.modelDir ?? shippedModelDir(),
        FEATURE_NAMES,
      ),
    ...extra,
  };
}

export function runRetrain(config: Config, deps: RetrainDeps, promote: boolean): Promise<RetrainResult> {
  return retrain(deps, {
    learning: config.learning,
    ifWeight: config.ensemble.ifWeight,
    rfWeight: config.ensemble.rfWeight,
    promote,
  });
}

export interface LearningLoops {
  stop(): Promise<void>;
}

export async function startLearningLoops(a: {
  config: Config;
  pool: pg.Pool;
  logger: Logger;
  learning: Learning;
  /** The running detector, hot-swapped when the registry's active version changes (absent: nothing to swap). */
  detector?: BatchDetector;
  /**
   * How to load a swapped-in model (the detection handle's `runnerOptions`: worker-death logging
   * and counting included); default: the configured runner options alone.
   */
  runnerOptions?: OnnxRunnerOptions;
  /** The recommendations service: its changes refresh patterns; `announce` relays the outcome changes to SSE. */
  recommendations: {
    subscribe(listener: (c: Change) => void): () => void;
    announce?(change: Change): void;
  };
  metrics?: Registry;
  /** The notification routing (main-notifications.ts), when enabled: drift alerts go through it. */
  notifications?: { onDriftAlert(alert: DriftAlertNotice): unknown };
}): Promise<LearningLoops> {
  const { config, pool, logger, learning } = a;
  const registry = new PgModelRegistry(pool);
  await learning.refreshPatterns();
  const unsubscribe = a.recommendations.subscribe((c) => {
    const s = c.recommendation?.status;
    if (s === 'approved' || s === 'rejected' || s === 'executed')
      void learning.refreshPatterns().catch((err: unknown) => logger.warn({ err }, 'pattern refresh failed'));
  });
  const relay = a.recommendations.announce?.bind(a.recommendations);
  const unrelay = relay ? learning.onChange(relay) : () => undefined;
  const notifications = a.notifications;
  const unnotify = notifications
    ? learning.onDriftAlert((alert) => notifications.onDriftAlert(alert))
    : () => undefined;
  if (a.metrics) registerLearningMetrics(a.metrics, () => learning.snapshot());
  const detector = a.detector instanceof Detector ? a.detector : undefined;
  let swapping = false;
  const syncActive = async (): Promise<DriftBaseline | undefined> => {
    const active = await registry.active();
    if (active && detector && !swapping && detector.modelVersion !== `${MODEL_NAME}@${active.version}`) {
      swapping = true;
      try {
        const next: ModelRunner = await loadOnnxModelDir(
          active.path,
          FEATURE_NAMES,
          a.runnerOptions ?? onnxRunnerOptionsOf(config.ensemble),
        );
        await (await detector.swapModel(next)).close();
        logger.info({ modelVersion: next.modelVersion }, 'registry active version hot-swapped in');
      } finally {
        swapping = false;
      }
    }
    return active?.metrics.driftBaseline as DriftBaseline | undefined;
  };
  const tick = async (): Promise<void> => {
    try {
      const baseline = await syncActive();
      await learning.tick(baseline, detector?.modelVersion ?? 'fallback');
    } catch (err) {
      logger.warn({ err }, 'learning tick failed');
    }
  };
  void tick(); // a version promoted while the sidecar was down is swapped in right away
  const timer = setInterval(() => void tick(), config.learning.checkIntervalMs);
  timer.unref();
  const schedule = config.learning.retrainEnabled
    ? startRetrainSchedule({
        cron: config.learning.retrainCron,
        clock: systemClock,
        logger,
        run: () => runRetrain(config, retrainDeps(config, pool, logger, detector ? { detector } : {}), true),
      })
    : undefined;
  return {
    async stop() {
      clearInterval(timer);
      schedule?.stop();
      unsubscribe();
      unrelay();
      unnotify();
    },
  };
}

export { SYSTEM_ACTOR };
