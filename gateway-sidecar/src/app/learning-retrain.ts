/**
 * Retraining (docs/learning.md): refit the Isolation Forest on recent normal events and the Random
 * Forest on recent normal events + synthetic faults + operator labels; score the candidate and the
 * current model on held-back labelled rows; register the candidate with its numbers; promote and
 * hot-swap it only when the gate says it is not worse.
 *
 * Labels and weights come from domain/learning/training-labels.ts: an approval confirms the events
 * that raised the recommendation, a rejection labels the events seen when deciding as false alarms;
 * every decision weighs the same (1/DECISIONS_PER_SYNTHETIC of the synthetic rows), classes balanced. The anomaly line is adapted from
 * the base line and the decisions (idempotent). Held back for the gate: the decisions whose
 * recommendation id hashes into `holdoutShare` (stable, so one recommendation's events never sit on
 * both sides) and the same share of the recent normal rows (negatives even when few alarms were
 * rejected).
 */
import { FEATURE_COUNT, FEATURE_NAMES } from '../domain/features.ts';
import {
  decisionFigures,
  promotionGate,
  type GateFigures,
  type GateResult,
} from '../domain/learning/gate.ts';
import { labelledDecisions, seenDecisions } from '../domain/learning/training-labels.ts';
import type { LearningStore, ModelArtifacts, ModelRegistryStore } from '../domain/learning/ports.ts';
import { adaptThreshold } from '../domain/learning/posterior.ts';
import { blendScores, DEFAULT_GATE } from '../domain/scoring.ts';
import type { LearningConfig } from '../config-learning.ts';
import type { Logger } from '../log.ts';
import type { Clock, ModelRunner } from '../ports.ts';
import { MODEL_NAME, RF_OPTIONS } from '../ml/ensemble-training.ts';
import {
  DECISIONS_PER_SYNTHETIC,
  fitCandidate,
  fitInWorker,
  type FitInput,
  type FitOutput,
} from './learning-fit.ts';

export { baselineOf, DECISIONS_PER_SYNTHETIC } from './learning-fit.ts';

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
  /**
   * Recent normal rows within this margin of a confirmed recommendation of the same equipment are
   * left out of the training and held-back normal rows (default: NEAR_CONFIRMED_MS, the default
   * dedup window; 0 keeps them).
   */
  readonly nearConfirmedMs?: number;
  /** The alarm's on-delay the gate judges "raised again" by (default: DEFAULT_GATE's, the detector's). */
  readonly onDelayTicks?: number;
}

/**
 * Default margin around confirmed recommendations: the default dedup window (5 minutes), the span
 * the engine groups one condition of one equipment into.
 */
export const NEAR_CONFIRMED_MS = 5 * 60_000;

export interface RetrainResult {
  readonly version: string;
  readonly path: string;
  readonly gate: GateResult;
  readonly promoted: boolean;
  readonly swapped: boolean;
  readonly anomalyThreshold: number;
  readonly trainingRows: number;
  /** Training-side labelled events (distinct rows; their repetitions are in the fit). */
  readonly labelledRows: number;
  /** Held-back rows the gate scored: held-back decisions' labelled events + held-back normal rows. */
  readonly holdoutRows: number;
  readonly holdoutNormalRows: number;
  /** Recent normal rows the forests were fitted on (after the held-back share). */
  readonly normalRows: number;
  /** Training-side decisions per class (the threshold adaptation counts these). */
  readonly approvedDecisions: number;
  readonly rejectedDecisions: number;
  /** The line the adaptation started from (the base line, not the current one: idempotent). */
  readonly baseThreshold: number;
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

/** Normal rows held back for the gate: a stable share by position (`holdoutShare` of them). */
export function isHeldBackNormal(i: number, share: number): boolean {
  return hashShare(`normal:${i}`) < share;
}

/** The base anomaly line the adaptation starts from: recorded by the version that adapted it, else its own line. */
function baseThresholdOf(
  entry: { metrics: Readonly<Record<string, unknown>> } | undefined,
  current: number,
): number {
  const b = entry?.metrics.baseThreshold;
  return typeof b === 'number' && Number.isFinite(b) ? b : current;
}

/** Held-back data of the gate: decisions with the events the operator saw, and normal rows. */
export interface GateHoldout {
  readonly decisions: readonly {
    readonly label: 0 | 1;
    readonly events: readonly Readonly<Record<string, number>>[];
    /** Each event's source timestamp (its tick). */
    readonly ticks: readonly number[];
  }[];
  readonly normal: readonly Readonly<Record<string, number>>[];
  /** The alarm's on-delay: a decision is raised again only by that many flagged ticks in a row. */
  readonly onDelayTicks: number;
}

/** `runner`'s decision-level figures on the held-back data, flagging at its own anomaly line as the detector would. */
export async function evaluate(
  runner: ModelRunner,
  h: GateHoldout,
  w: { ifWeight: number; rfWeight: number },
): Promise<GateFigures> {
  const rows = [...h.decisions.flatMap((d) => d.events), ...h.normal];
  if (rows.length === 0) return decisionFigures([], [], h.onDelayTicks);
  const res = await runner.run(matrix(rows), rows.length);
  const flagged = rows.map(
    (_, i) => blendScores(res.ifScore[i] as number, res.rfScore[i] as number, w) >= runner.anomalyThreshold,
  );
  let at = 0;
  const decisions = h.decisions.map((d) => {
    const f = flagged.slice(at, at + d.events.length);
    at += d.events.length;
    return { label: d.label, flagged: f, ticks: d.ticks };
  });
  return decisionFigures(decisions, flagged.slice(at), h.onDelayTicks);
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
  const train = labelledDecisions(events.filter((e) => hashShare(e.recommendationId) >= L.holdoutShare));
  const heldDecisions = seenDecisions(events.filter((e) => hashShare(e.recommendationId) < L.holdoutShare));
  step('reading normal events', 1);
  // Recent non-anomalous rows, without the ones next to a confirmed fault of the same equipment:
  // the alarm's on-delay ticks and any unflagged part of a confirmed fault are not "normal".
  const normalRows = await d.store.featureRows(
    from,
    now + 1,
    L.maxNormalRows,
    true,
    o.nearConfirmedMs ?? NEAR_CONFIRMED_MS,
  );
  const normalTrain = normalRows.filter((_, i) => !isHeldBackNormal(i, L.holdoutShare));
  const normalHeld = normalRows.filter((_, i) => isHeldBackNormal(i, L.holdoutShare));
  // The gate's data: held-back decisions with the events the operator saw, and held-back recent
  // normal rows (so a candidate that flags more normal operation shows a higher FAR even when few
  // alarms were rejected).
  const holdout: GateHoldout = {
    decisions: heldDecisions,
    normal: normalHeld,
    onDelayTicks: o.onDelayTicks ?? DEFAULT_GATE.onDelayTicks,
  };
  const holdoutRows = heldDecisions.reduce((a, d) => a + d.events.length, 0) + normalHeld.length;
  const rows = train.decisions.flatMap((d, i) =>
    d.events.map((features) => ({ features, label: d.label, i })),
  );
  const input: FitInput = {
    normal: matrix(normalTrain),
    labelledX: matrix(rows.map((r) => r.features)),
    labelledY: Uint8Array.from(rows, (r) => r.label),
    labelledDecision: Uint32Array.from(rows, (r) => r.i),
    decisionWeights: Float64Array.from(train.decisions, (d) => d.weight),
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
  // From the base line and the whole decision history of the range (not the current, already
  // adapted line): retraining again on the same decisions gives the same line.
  const baseThreshold = baseThresholdOf(await d.registry.active(), current.anomalyThreshold);
  const threshold = adaptThreshold(baseThreshold, train.approvedDecisions, train.rejectedDecisions, {
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
        labelledRows: rows.length,
        labelRows: fitted.labelRows,
        decisionsPerSynthetic: DECISIONS_PER_SYNTHETIC,
        approvedDecisions: train.approvedDecisions,
        rejectedDecisions: train.rejectedDecisions,
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
      baseThreshold,
      trainingRows: total,
      labelledRows: rows.length,
      approvedDecisions: train.approvedDecisions,
      rejectedDecisions: train.rejectedDecisions,
      holdoutRows,
      holdoutNormalRows: normalHeld.length,
      holdoutDecisions: heldDecisions.length,
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
      labelledRows: rows.length,
      holdoutRows,
      holdoutNormalRows: normalHeld.length,
      normalRows: normalTrain.length,
      approvedDecisions: train.approvedDecisions,
      rejectedDecisions: train.rejectedDecisions,
      baseThreshold,
    };
  } finally {
    if (!swapped) await candidate.close();
    await current.close();
  }
}
