/**
 * Builds feature rows for training: synthetic equipment histories run through the real
 * FeatureEngine (the same code that serves), with faults injected into the later part. The
 * engine learns only from samples outside the fault, as the detector's alarm gate does.
 */
import { FEATURE_COUNT, FeatureEngine } from '../domain/features.ts';
import type { SensorReading } from '../domain/tag-event.ts';
import { generateNormal, injectFault, randomFault, type EquipmentSeries } from './fault-injection.ts';
import { createRng } from './random.ts';

export interface TrainingSet {
  /** Row-major features, FEATURE_COUNT per row. */
  readonly x: Float32Array;
  /** 1 = reading of a faulty sensor inside the fault, 0 = normal. */
  readonly y: Uint8Array;
}

export interface SyntheticOptions {
  readonly equipments?: number;
  readonly samples?: number;
  /** Samples of each history before any fault and before rows are kept (window warm-up). */
  readonly warmup?: number;
  /** Fraction of histories that get a fault. */
  readonly faultShare?: number;
  readonly seed?: number;
  readonly windowMs?: number;
  readonly bucketCount?: number;
}

/** A reading for a synthetic or CSV sensor; engineering limits are unknown, so they are open. */
export function syntheticReading(
  equipmentId: string,
  sensor: string,
  sensorIndex: number,
  value: number,
  tMs: number,
): SensorReading {
  return {
    kind: 'sensor',
    tag: {
      tagPath: `${equipmentId}/${sensor}`,
      equipmentId,
      sensorType: sensor,
      unit: '',
      engLow: -Infinity,
      engHigh: Infinity,
      thresholds: undefined,
      sensorIndex,
    },
    value,
    quality: 'good',
    sourceTimestampMs: tMs,
    receivedTimestampMs: tMs,
  };
}

/** Synthetic normal + faulty histories → labelled feature rows. */
export function buildSyntheticTrainingSet(opts: SyntheticOptions = {}): TrainingSet {
  const rng = createRng(opts.seed ?? 42);
  const equipments = opts.equipments ?? 160;
  const samples = opts.samples ?? 900;
  const warmup = opts.warmup ?? 200;
  const xs: number[] = [];
  const ys: number[] = [];
  const row = new Float64Array(FEATURE_COUNT);
  for (let e = 0; e < equipments; e++) {
    const sensors = 1 + Math.floor(rng() * 8);
    const normal = generateNormal(rng, sensors, samples);
    const hasFault = rng() < (opts.faultShare ?? 0.75);
    const fault = hasFault ? randomFault(rng, sensors, warmup, samples) : undefined;
    const series: EquipmentSeries = fault ? injectFault(rng, normal, fault) : normal;
    const engine = new FeatureEngine({
      windowMs: opts.windowMs ?? 86_400_000,
      bucketCount: opts.bucketCount ?? 96,
    });
    const affected = new Set(fault?.sensors ?? []);
    for (let t = 0; t < samples; t++) {
      const inFault = fault !== undefined && t >= fault.start && t < fault.start + fault.length;
      for (let s = 0; s < sensors; s++) {
        const v = (series.values[s] as Float64Array)[t] as number;
        engine.update(syntheticReading(`E${e}`, `s${s}`, s, v, 1_000 * t), row, 0, !inFault);
        if (t < warmup) continue;
        let label = 0;
        if (inFault) {
          if (!affected.has(s)) continue; // an untouched sensor of a faulty machine is neither class
          label =
            fault.kind === 'spikes' ? (v !== ((normal.values[s] as Float64Array)[t] as number) ? 1 : 0) : 1;
        }
        for (let f = 0; f < FEATURE_COUNT; f++) xs.push(row[f] as number);
        ys.push(label);
      }
    }
  }
  return { x: Float32Array.from(xs), y: Uint8Array.from(ys) };
}
