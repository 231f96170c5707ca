/**
 * Retraining (docs/learning.md): refit the Isolation Forest on recent normal events and the Random
 * Forest on recent normal events + synthetic faults + operator labels; score the candidate and the
 * current model on held-back labelled rows; register the candidate with its numbers; promote and
 * hot-swap it only when the gate says it is not worse.
 *
 * Held-back rows are the events of labelled recommendations whose id hashes into `holdoutShare`
 * (stable, so one recommendation's events never sit on both sides). Operator labels are few next
 * to the synthetic rows, so each labelled row enters the Random Forest LABEL_WEIGHT times.
 */
import { FEATURE_COUNT, FEATURE_NAMES } from '../domain/features.ts';
import { figuresFrom, promotionGate, type GateFigures, type GateResult } from '../domain/learning/gate.ts';
import { labelOf } from '../domain/learning/labels.ts';
import type {
  LabelledEvent,
  LearningStore,
  ModelArtifacts,
  ModelRegistryStore,
} from '../domain/learning/ports.ts';
import { adaptThreshold } from '../domain/learning/posterior.ts';
import { blendScores } from '../domain/scoring.ts';
import type { LearningConfig } from '../config-learning.ts';
import type { Logger } from '../log.ts';
import type { Clock, ModelRunner } from '../ports.ts';
import { MODEL_NAME, RF_OPTIONS } from '../ml/ensemble-training.ts';
import { fitCandidate, fitInWorker, LABEL_WEIGHT, type FitInput, type FitOutput } from './learning-fit.ts';

export { baselineOf, LABEL_WEIGHT } from './learning-fit.ts';

export interface RetrainDeps {
  /** Only the two reads retraining needs (the feedback backtest passes an in-memory one). */
  readonly store: Pick<LearningStore, 'labelledEvents' | 'featureRows'>;
  readonly registry: ModelRegistryStore;
  readonly artifacts: ModelArtifacts;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Loads a fresh copy of the model serving now (registry's active version or the shipped one); closed after the gate. */
  readonly currentModel: () => Promise<ModelRunner>;
  /** The running detector, hot-swapped on promotion (absent in the CLI). */
  readonly detector?: { swapModel(next: ModelRunner): Promise<ModelRunner> };
  readonly progress?: (stage: string, done: number, total: number) => void;
}

export interface RetrainOptions {
  readonly learning: LearningConfig;
  readonly ifWeight: number;
  readonly rfWeight: number;
  /** Promote when the gate passes (false: register the candidate only). */
  readonly promote: boolean;
  readonly seed?: number;
  /** Size of the synthetic part (defaults: 160 equipments, the shipped recipe's forest). */
  readonly syntheticEquipments?: number;
  readonly rfTrees?: number;
  readonly rowsPerTree?: number;
  /** Deliberately worse candidate (tests of the gate only): every Random Forest label is inverted. */
  readonly corruptLabels?: boolean;
  /**
   * Where the forests are fitted: 'worker' (default) on a worker thread, so the sidecar's event
   * loop keeps scoring during a scheduled retrain; 'main' on the calling thread (blocks it).
   */
  readonly fitThread?: 'worker' | 'main';
}

export interface RetrainResult {
  readonly version: string;
  readonly path: string;
  readonly gate: GateResult;
  readonly promoted: boolean;
  readonly swapped: boolean;
  readonly anomalyThreshold: number;
  readonly trainingRows: number;
  readonly labelledRows: number;
  readonly holdoutRows: number;
}

/** Stable share in [0, 1) from a string (FNV-1a). */
export function hashShare(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h / 0x1_0000_0000;
}

function rowOf(features: Readonly<Record<string, number>>, into: Float32Array, off: number): void {
  for (let k = 0; k < FEATURE_COUNT; k++) into[off + k] = features[FEATURE_NAMES[k] as string] ?? 0;
}

function matrix(rows: readonly Readonly<Record<string, number>>[]): Float32Array {
  const x = new Float32Array(rows.length * FEATURE_COUNT);
  rows.forEach((r, i) => rowOf(r, x, i * FEATURE_COUNT));
  return x;
}

interface Labelled {
  readonly features: Readonly<Record<string, number>>;
  readonly label: 0 | 1;
}

function labelled(events: readonly LabelledEvent[]): Labelled[] {
  const out: Labelled[] = [];
  for (const e of events) {
    const l = labelOf({
      recommendationId: e.recommendationId,
      status: e.status,
      operatorNote: e.note,
      outcome: e.outcome,
    });
    if (l !== undefined) out.push({ features: e.features, label: l.label });
  }
  return out;
}

/** Flags of `runner` on held-back rows at its own anomaly line, as the detector would. */
export async function evaluate(
  runner: ModelRunner,
  rows: readonly Labelled[],
  w: { ifWeight: number; rfWeight: number },
): Promise<GateFigures> {
  if (rows.length === 0) return figuresFrom([], []);
  const res = await runner.run(matrix(rows.map((r) => r.features)), rows.length);
  const flagged = rows.map(
    (_, i) => blendScores(res.ifScore[i] as number, res.rfScore[i] as number, w) >= runner.anomalyThreshold,
  );
  return figuresFrom(
    rows.map((r) => r.label),
    flagged,
  );
}

function versionAt(ms: number): string {
  return `r${new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

export async function retrain(d: RetrainDeps, o: RetrainOptions): Promise<RetrainResult> {
  const L = o.learning;
  const step = (stage: string, done: number): void => d.progress?.(stage, done, 7);
  const now = d.clock.now();
  const from = now - L.trainingDays * 86_400_000;
  step('reading labelled events', 0);
  const events = await d.store.labelledEvents(from, now + 1);
  const train = labelled(events.filter((e) => hashShare(e.recommendationId) >= L.holdoutShare));
  const holdout = labelled(events.filter((e) => hashShare(e.recommendationId) < L.holdoutShare));
  step('reading normal events', 1);
  const normal = matrix(await d.store.featureRows(from, now + 1, L.maxNormalRows, true));
  const labelledX = new Float32Array(train.length * FEATURE_COUNT);
  train.forEach((r, i) => rowOf(r.features, labelledX, i * FEATURE_COUNT));
  const input: FitInput = {
    normal,
    labelledX,
    labelledY: Uint8Array.from(train, (r) => r.label),
    seed: o.seed ?? 42,
    syntheticEquipments: o.syntheticEquipments ?? 160,
    rfTrees: o.rfTrees ?? RF_OPTIONS.trees,
    rowsPerTree: o.rowsPerTree ?? RF_OPTIONS.rowsPerTree,
    corruptLabels: o.corruptLabels === true,
  };
  const fitted: FitOutput =
    (o.fitThread ?? 'worker') === 'worker' ? await fitInWorker(input, step) : fitCandidate(input, step);
  const { isolationForest, randomForest, baseline } = fitted;
  const total = fitted.totalRows;

  step('evaluating candidate vs current', 5);
  const current = await d.currentModel();
  const approved = train.filter((r) => r.label === 1).length;
  const threshold = adaptThreshold(current.anomalyThreshold, approved, train.length - approved, {
    min: L.thresholdMin,
    max: L.thresholdMax,
    step: L.thresholdStep,
    targetRejectRate: L.targetRejectRate,
  });
  let version = versionAt(now);
  if ((await d.registry.get(version)) !== undefined)
    version = `${version}-${Math.floor(hashShare(`${now}|${Math.random()}`) * 1e6)}`;
  const saved = await d.artifacts.save(
    version,
    { isolationForest, randomForest },
    {
      training: {
        from: new Date(from).toISOString(),
        to: new Date(now).toISOString(),
        rows: total,
        normalRows: fitted.normalRows,
        syntheticRows: fitted.syntheticRows,
        labelledRows: train.length,
        labelWeight: LABEL_WEIGHT,
      },
    },
    threshold,
  );
  const candidate = await d.artifacts.load(saved.path);
  let swapped = false;
  let promoted = false;
  try {
    const w = { ifWeight: o.ifWeight, rfWeight: o.rfWeight };
    const gate = promotionGate(await evaluate(current, holdout, w), await evaluate(candidate, holdout, w), {
      f1Tolerance: L.gateF1Tolerance,
      farTolerance: L.gateFarTolerance,
      minRows: L.gateMinRows,
    });
    step('registering', 6);
    const metrics = {
      currentVersion: current.modelVersion,
      anomalyThreshold: threshold,
      trainingRows: total,
      labelledRows: train.length,
      holdoutRows: holdout.length,
      driftBaseline: baseline,
    };
    const entry = {
      version,
      name: MODEL_NAME,
      createdAtMs: now,
      trainingFromMs: from,
      trainingToMs: now,
      metrics,
      gate,
      path: saved.path,
      sha256: saved.sha256,
    };
    await d.registry.register({ ...entry, status: gate.passed ? 'candidate' : 'rejected' }, now);
    if (gate.passed && o.promote) {
      await d.registry.promote(version, now);
      promoted = true;
      if (d.detector) {
        const old = await d.detector.swapModel(candidate);
        swapped = true;
        await old.close();
      }
    }
    d.logger.info(
      {
        version,
        promoted,
        swapped,
        gate: { passed: gate.passed, reason: gate.reason, current: gate.current, candidate: gate.candidate },
      },
      'retrained model registered',
    );
    step('done', 7);
    return {
      version,
      path: saved.path,
      gate,
      promoted,
      swapped,
      anomalyThreshold: threshold,
      trainingRows: total,
      labelledRows: train.length,
      holdoutRows: holdout.length,
    };
  } finally {
    if (!swapped) await candidate.close();
    await current.close();
  }
}
