/**
 * The CPU-heavy part of a retrain (docs/learning.md "Retraining"): build the synthetic faults, join
 * them with the recent normal rows and the operator labels, fit the Random Forest and the
 * Isolation Forest, and take the drift baseline. The forest fits are synchronous and take from
 * seconds to about a minute, so the sidecar runs them on a worker thread (`fitInWorker`, entry
 * learning-fit-worker.ts): ingest keeps scoring while a scheduled retrain fits. `fitCandidate` is
 * the same computation on the calling thread (the thread the worker runs it on).
 *
 * ```ts
 * const out = await fitInWorker(input, (stage, done) => bar.update(stage, done));
 * ```
 */
import { Worker } from 'node:worker_threads';
import { FEATURE_COUNT } from '../domain/features.ts';
import { driftBaseline, type DriftBaseline } from '../domain/learning/drift.ts';
import { decisionRepetitions } from '../domain/learning/training-labels.ts';
import { FEATURE_NAMES } from '../domain/features.ts';
import { fitDefaultIsolationForest, IF_OPTIONS, RF_OPTIONS } from '../ml/ensemble-training.ts';
import type { IsolationForestModel } from '../ml/isolation-forest.ts';
import { fitRandomForest, type RandomForestModel } from '../ml/random-forest.ts';
import { buildSyntheticTrainingSet } from '../ml/training-set.ts';

/**
 * Weight of operator decisions next to the synthetic faults: an average decision enters the
 * Random Forest's training set as 1/DECISIONS_PER_SYNTHETIC of the synthetic rows (split over its
 * labelled events, classes balanced: domain/learning/training-labels.ts), so 500 decisions weigh
 * as much as the shipped fault recipe; with the default 160 synthetic equipments (~507,000 rows)
 * that is ~1,000 rows per decision. Relative, so a smaller synthetic part (tests) keeps the balance.
 */
export const DECISIONS_PER_SYNTHETIC = 500;

export interface FitInput {
  /** Recent non-anomalous feature rows, row-major, FEATURE_COUNT wide. */
  readonly normal: Float32Array;
  /**
   * Training-side operator labels: one feature row per labelled event (row-major), its 0/1 label
   * and the index of its decision; rows of one decision are contiguous.
   */
  readonly labelledX: Float32Array;
  readonly labelledY: Uint8Array;
  readonly labelledDecision: Uint32Array;
  /** Relative weight per decision (an average decision weighs 1). */
  readonly decisionWeights: Float64Array;
  readonly seed: number;
  readonly syntheticEquipments: number;
  readonly rfTrees: number;
  readonly rowsPerTree: number;
  /** Deliberately worse candidate (tests of the gate only): every Random Forest label inverted. */
  readonly corruptLabels: boolean;
}

export interface FitOutput {
  readonly isolationForest: IsolationForestModel;
  readonly randomForest: RandomForestModel;
  /** Per-feature deciles of the Isolation Forest's training rows (the drift reference). */
  readonly baseline: DriftBaseline;
  readonly totalRows: number;
  readonly normalRows: number;
  readonly syntheticRows: number;
  /** Rows the operator labels took in the training set (their repetitions summed). */
  readonly labelRows: number;
}

/** Progress of the fit: the stage names and numbers of retrain()'s 7-step bar. */
export type FitProgress = (stage: string, done: number) => void;

/** Drift baseline of a training matrix (per feature deciles). */
export function baselineOf(x: Float32Array): DriftBaseline {
  const n = x.length / FEATURE_COUNT;
  const cols: Record<string, number[]> = {};
  FEATURE_NAMES.forEach((name, k) => {
    const c = new Array<number>(n);
    for (let i = 0; i < n; i++) c[i] = x[i * FEATURE_COUNT + k] as number;
    cols[name] = c;
  });
  return driftBaseline(cols);
}

/** Repetitions of each labelled row: each decision's weight × `perDecision` rows, spread over its rows. */
export function labelRepetitions(
  input: Pick<FitInput, 'labelledDecision' | 'decisionWeights'>,
  perDecision: number,
): Uint32Array {
  const n = input.labelledDecision.length;
  const reps = new Uint32Array(n);
  for (let start = 0; start < n;) {
    const d = input.labelledDecision[start] as number;
    let end = start;
    while (end < n && input.labelledDecision[end] === d) end++;
    decisionRepetitions(input.decisionWeights[d] as number, end - start, perDecision).forEach((v, i) => {
      reps[start + i] = v;
    });
    start = end;
  }
  return reps;
}

/** The fit on the calling thread (blocks it for the whole fit). */
export function fitCandidate(input: FitInput, progress: FitProgress = () => undefined): FitOutput {
  progress('building synthetic faults', 2);
  const synth = buildSyntheticTrainingSet({ seed: input.seed, equipments: input.syntheticEquipments });
  const nNormal = input.normal.length / FEATURE_COUNT;
  const nSynth = synth.y.length;
  const nLabelled = input.labelledY.length;
  const reps = labelRepetitions(input, nSynth / DECISIONS_PER_SYNTHETIC);
  let nRepeated = 0;
  for (let r = 0; r < nLabelled; r++) nRepeated += reps[r] as number;
  const total = nSynth + nNormal + nRepeated;
  const x = new Float32Array(total * FEATURE_COUNT);
  const y = new Uint8Array(total);
  x.set(synth.x, 0);
  y.set(synth.y, 0);
  x.set(input.normal, nSynth * FEATURE_COUNT);
  let at = nSynth + nNormal;
  for (let r = 0; r < nLabelled; r++) {
    const row = input.labelledX.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT);
    for (let k = 0; k < (reps[r] as number); k++, at++) {
      x.set(row, at * FEATURE_COUNT);
      y[at] = input.labelledY[r] as number;
    }
  }
  if (input.corruptLabels) for (let i = 0; i < y.length; i++) y[i] = 1 - (y[i] as number);
  progress('fitting random forest', 3);
  const randomForest = fitRandomForest(x, y, FEATURE_COUNT, {
    ...RF_OPTIONS,
    trees: input.rfTrees,
    rowsPerTree: input.rowsPerTree,
    seed: input.seed + 1,
  });
  progress('fitting isolation forest', 4);
  // Too few recent normal rows to describe normal: fall back to the synthetic normal rows.
  let ifRows = input.normal;
  if (nNormal < IF_OPTIONS.sampleSize) {
    const idx: number[] = [];
    for (let i = 0; i < nSynth; i++) if (synth.y[i] === 0) idx.push(i);
    ifRows = new Float32Array(idx.length * FEATURE_COUNT);
    idx.forEach((r, k) =>
      ifRows.set(synth.x.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT), k * FEATURE_COUNT),
    );
  }
  const isolationForest = fitDefaultIsolationForest(ifRows, input.seed + 2);
  return {
    isolationForest,
    randomForest,
    baseline: baselineOf(ifRows),
    totalRows: total,
    normalRows: nNormal,
    syntheticRows: nSynth,
    labelRows: nRepeated,
  };
}

/** Messages of the fit worker (learning-fit-worker.ts). */
export type FromFitWorker =
  | { readonly type: 'progress'; readonly stage: string; readonly done: number }
  | { readonly type: 'done'; readonly output: FitOutput }
  | { readonly type: 'error'; readonly message: string };

/**
 * The worker's entry. Under tsx (`npm start`, the tests) the worker is a TypeScript file: a small
 * ES module registers tsx's loader in the new thread first, then imports it (the parent's
 * --import flags are not relied on). Compiled to .js, the .js file is started directly.
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./learning-fit-worker.js', import.meta.url);
  const entry = new URL('./learning-fit-worker.ts', import.meta.url).href;
  const loader = import.meta.resolve('tsx/esm/api');
  const boot = `import { register } from ${JSON.stringify(loader)};\nregister();\nawait import(${JSON.stringify(entry)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

/**
 * The fit on a worker thread: the calling thread stays free (ingest keeps scoring). Progress comes
 * back as messages. Rejects with the worker's error, or when the thread exits without a result.
 */
export function fitInWorker(input: FitInput, progress: FitProgress = () => undefined): Promise<FitOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerEntry(), { workerData: input });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: FromFitWorker) => {
      if (m.type === 'progress') progress(m.stage, m.done);
      else if (m.type === 'done') finish(() => resolve(m.output));
      else finish(() => reject(new Error(`retrain fit worker failed: ${m.message}`)));
    });
    worker.once('error', (err) => finish(() => reject(err)));
    worker.once('exit', (code) =>
      finish(() => reject(new Error(`retrain fit worker exited with code ${code} before its result`))),
    );
  });
}
