/**
 * One backtest file: fit on the first N rows, score the rest with the real Detector and ONNX
 * runtime. Each CSV row is one snapshot of one piece of equipment (every column a sensor), fed
 * to the detector as one batch; a row's score is its highest sensor score and it is flagged when
 * the equipment's alarm (with hysteresis) is on after the row.
 *
 * Fit = the feature windows learn the first N rows, an Isolation Forest is fitted on their
 * feature rows (after a warm-up quarter, while the window statistics settle), and a model made of
 * that forest plus the shipped Random Forest is hot-swapped in.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { Detector } from '../app/detector.ts';
import type { AlarmGateOptions } from '../domain/scoring.ts';
import { loadOnnxModelBytes } from '../adapters/onnx-model-runner.ts';
import type { SensorTable } from '../domain/csv.ts';
import type { ScoredReading } from '../domain/detection.ts';
import { FEATURE_NAMES } from '../domain/features.ts';
import type { SensorReading } from '../domain/tag-event.ts';
import { encodeEnsemble, fitDefaultIsolationForest } from '../ml/ensemble-training.ts';
import type { RandomForestModel } from '../ml/random-forest.ts';
import { syntheticReading } from '../ml/training-set.ts';
import type { ModelRunner } from '../ports.ts';

export interface FileResult {
  readonly file: string;
  readonly table: SensorTable;
  /** Index of the first scored row (= train rows). */
  readonly firstScored: number;
  readonly scores: number[];
  readonly flagged: boolean[];
}

export interface RunSettings {
  readonly trainRows: number;
  readonly threshold: number;
  readonly windowMs: number;
  readonly bucketCount: number;
  readonly ifWeight: number;
  readonly rfWeight: number;
  readonly shippedRunner: ModelRunner;
  readonly randomForest: RandomForestModel;
  /** Alarm-gate overrides (default: the Detector's DEFAULT_GATE). */
  readonly gate?: Partial<AlarmGateOptions>;
  /** Sees every scored row's readings (row index in the table), e.g. the feedback backtest's simulated operator. */
  readonly onScored?: (row: number, scored: readonly ScoredReading[]) => void;
  /** Sees the feature rows (FEATURE_NAMES order, one per sensor) of each fit-window row the Isolation Forest is fitted on. */
  readonly onFitRow?: (row: number, features: Float32Array) => void;
}

function rowReadings(file: string, table: SensorTable, i: number): SensorReading[] {
  const row = table.rows[i] as readonly number[];
  const t = table.timestampsMs[i] as number;
  const out: SensorReading[] = [];
  table.columns.forEach((c, s) => {
    const v = row[s] as number;
    // An empty cell is not a reading (the validator would reject NaN); the sensor just skips a tick.
    if (Number.isFinite(v)) out.push(syntheticReading(file, c, s, v, t));
  });
  return out;
}

export async function runFile(
  path: string,
  table: SensorTable,
  s: RunSettings,
  onRow: () => void,
): Promise<FileResult> {
  const file = basename(path);
  const key = path;
  const detector = new Detector(s.shippedRunner, {
    windowMs: s.windowMs,
    bucketCount: s.bucketCount,
    ifWeight: s.ifWeight,
    rfWeight: s.rfWeight,
    batchSize: 256,
    batchMaxWaitMs: 0,
    gate: s.gate ?? {},
  });
  const n = Math.min(s.trainRows, table.rows.length);
  const skip = Math.floor(n / 4);
  const fitRows: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const f = await detector.warm(rowReadings(key, table, i));
    if (i >= skip) {
      fitRows.push(f);
      s.onFitRow?.(i, f);
    }
    onRow();
  }
  const total = fitRows.reduce((a, f) => a + f.length, 0);
  const x = new Float32Array(total);
  let at = 0;
  for (const f of fitRows) {
    x.set(f, at);
    at += f.length;
  }
  let runner: ModelRunner | undefined;
  if (total > 0) {
    const isolationForest = fitDefaultIsolationForest(x, 1);
    const bytes = encodeEnsemble({ isolationForest, randomForest: s.randomForest }, `backtest-${file}`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    runner = await loadOnnxModelBytes(
      bytes,
      {
        name: 'backtest',
        version: file,
        sha256,
        inputs: [...FEATURE_NAMES],
        thresholds: { anomaly: s.threshold },
      },
      FEATURE_NAMES,
    );
    await detector.swapModel(runner);
  }
  const scores: number[] = [];
  const flagged: boolean[] = [];
  for (let i = n; i < table.rows.length; i++) {
    const scored = await detector.process(rowReadings(key, table, i));
    let best = 0;
    for (const r of scored) if (r.score > best) best = r.score;
    scores.push(best);
    flagged.push(scored.length > 0 && (scored[scored.length - 1]?.isAnomaly ?? false));
    s.onScored?.(i, scored);
    onRow();
  }
  await runner?.close();
  return { file: path, table, firstScored: n, scores, flagged };
}
