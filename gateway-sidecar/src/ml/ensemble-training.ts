/**
 * The default ensemble recipe, one place for the settings the train CLI, the backtest and the
 * docs share. Both forests split only on scale-free features (sigma units, ratios, positions),
 * so a model trained on synthetic equipment applies to any sensor whatever its unit and level.
 */
import { FEATURE_COUNT, FEATURE_INDEX, FEATURE_NAMES, type FeatureName } from '../domain/features.ts';
import { fitIsolationForest, type IsolationForestModel } from './isolation-forest.ts';
import { fitRandomForest, type RandomForestModel } from './random-forest.ts';
import { encodeEnsembleOnnx } from './onnx-export.ts';
import { buildSyntheticTrainingSet } from './training-set.ts';

export const MODEL_NAME = 'if-rf-ensemble';
/** Version `npm run train` writes by default: the shipped model (the sidecar serves the highest version in models/). */
export const DEFAULT_MODEL_VERSION = '1.1.0';

export const SCALE_FREE: readonly FeatureName[] = [
  'z_score',
  'ewma_gap',
  'position_in_range',
  'level_shift',
  'volatility_ratio',
  'step_z',
  'equipment_deviation',
];
export const SCALE_FREE_INDEX: readonly number[] = SCALE_FREE.map((n) => FEATURE_INDEX[n]);

/** Anomaly line on the blended score (0.3 × IF + 0.7 × RF); see docs/detection.md for why. */
export const DEFAULT_ANOMALY_THRESHOLD = 0.65;

/**
 * 50 Isolation Forest trees (1.0.0 had 100): the ONNX run is the throughput ceiling and the IF was
 * 100 of its 130 trees; with 50 the valve1 backtest is unchanged within 0.003 F1 (docs/detection.md).
 */
export const IF_OPTIONS = { trees: 50, sampleSize: 256, features: SCALE_FREE_INDEX } as const;
export const RF_OPTIONS = {
  trees: 30,
  maxDepth: 10,
  minLeaf: 20,
  rowsPerTree: 20_000,
  features: SCALE_FREE_INDEX,
} as const;

/** Isolation Forest on normal feature rows (row-major, FEATURE_COUNT wide). */
export function fitDefaultIsolationForest(normalRows: Float32Array, seed = 1): IsolationForestModel {
  return fitIsolationForest(normalRows, FEATURE_COUNT, { ...IF_OPTIONS, seed });
}

export interface TrainedEnsemble {
  readonly isolationForest: IsolationForestModel;
  readonly randomForest: RandomForestModel;
  readonly trainingRows: number;
  readonly faultRows: number;
}

/** The shipped model: RF on synthetic normal-vs-fault rows, IF on the synthetic normal rows. */
export function trainDefaultEnsemble(seed = 42): TrainedEnsemble {
  const ts = buildSyntheticTrainingSet({ seed });
  const randomForest = fitRandomForest(ts.x, ts.y, FEATURE_COUNT, { ...RF_OPTIONS, seed: seed + 1 });
  const normal: number[] = [];
  for (let i = 0; i < ts.y.length; i++) if (ts.y[i] === 0) normal.push(i);
  const rows = new Float32Array(normal.length * FEATURE_COUNT);
  normal.forEach((r, k) =>
    rows.set(ts.x.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT), k * FEATURE_COUNT),
  );
  let faultRows = 0;
  for (const v of ts.y) faultRows += v;
  return {
    isolationForest: fitDefaultIsolationForest(rows, seed + 2),
    randomForest,
    trainingRows: ts.y.length,
    faultRows,
  };
}

/**
 * The `model.json` descriptor of a model folder (what loadOnnxModelDir reads and the model card
 * documents): `npm run train` and a retrained version (ModelFiles) write the same layout.
 */
export function modelDescriptor(
  version: string,
  sha256: string,
  anomalyThreshold: number,
  weights: { readonly ifWeight: number; readonly rfWeight: number },
  extra: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  return {
    name: MODEL_NAME,
    version,
    file: 'model.onnx',
    sha256,
    inputs: [...FEATURE_NAMES],
    input_tensor: { name: 'features', dtype: 'float32', shape: ['N', FEATURE_NAMES.length] },
    outputs: ['if_score', 'rf_score'],
    thresholds: { anomaly: anomalyThreshold },
    ensemble: weights,
    ...extra,
  };
}

/** ONNX bytes of an ensemble, inputs in FEATURE_NAMES order. */
export function encodeEnsemble(
  m: { isolationForest: IsolationForestModel; randomForest: RandomForestModel },
  modelVersion: string,
): Uint8Array {
  return encodeEnsembleOnnx({
    featureNames: FEATURE_NAMES,
    isolationForest: m.isolationForest,
    randomForest: m.randomForest,
    modelVersion,
  });
}
