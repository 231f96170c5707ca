/**
 * Faults the plant simulator can inject, their timelines and their effects. Process faults
 * (cooling degradation, bearing wear, cavitation) change the physics through a ProcessLoad and
 * can be relieved by setpoints; sensor faults (stuck, spike, step) corrupt one tag's reading and
 * end on their own. Pure: times are simulated epoch ms passed in.
 */
import { PLANT_SENSORS, type ProcessLoad } from './plant-model.ts';
import type { SeededRandom } from './plant-random.ts';

export const FAULT_KINDS = [
  'cooling_degradation',
  'bearing_wear',
  'cavitation',
  'stuck',
  'spike',
  'step',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
const SENSOR_FAULTS: ReadonlySet<FaultKind> = new Set(['stuck', 'spike', 'step']);

/** What to inject. Omitted fields take the kind's defaults (see DEFAULTS). */
export interface FaultSpec {
  readonly kind: FaultKind;
  readonly equipmentId: string;
  /** Sensor faults: the tag to corrupt (default: the equipment's first sensor). */
  readonly tagPath?: string;
  /** How long the fault lasts, simulated ms. */
  readonly durationMs?: number;
  /** Time to reach full severity, simulated ms (process faults). */
  readonly rampMs?: number;
  /** Severity: cooling lost fraction, wear 0..1, cavitation 0..1, spike/step offset in engineering units. */
  readonly magnitude?: number;
}

export interface ActiveFault {
  readonly id: number;
  readonly kind: FaultKind;
  readonly equipmentId: string;
  readonly tagPath: string | undefined;
  readonly startMs: number;
  readonly endMs: number;
  readonly rampMs: number;
  readonly magnitude: number;
  /** Stuck faults: the value the sensor froze at (set on the first sample). */
  frozenValue?: number;
}

const MINUTE_MS = 60_000;
const DEFAULTS: Record<FaultKind, { durationMs: number; rampMs: number }> = {
  cooling_degradation: { durationMs: 40 * MINUTE_MS, rampMs: 12 * MINUTE_MS },
  bearing_wear: { durationMs: 40 * MINUTE_MS, rampMs: 10 * MINUTE_MS },
  cavitation: { durationMs: 15 * MINUTE_MS, rampMs: 30_000 },
  stuck: { durationMs: 5 * MINUTE_MS, rampMs: 0 },
  spike: { durationMs: 1, rampMs: 0 },
  step: { durationMs: 5 * MINUTE_MS, rampMs: 0 },
};
const EQUIPMENT_FOR: Record<'cooling_degradation' | 'cavitation', string> = {
  cooling_degradation: 'REACTOR_01',
  cavitation: 'PUMP_02',
};

/** Sensor tags of one equipment in map order. */
export function sensorTagsOf(equipmentId: string): string[] {
  return [...PLANT_SENSORS].filter(([, s]) => s.equipmentId === equipmentId).map(([t]) => t);
}

/**
 * Validates a spec and fills its defaults. Throws an Error naming the problem for an unknown
 * kind, equipment or tag, or a fault the equipment cannot have (cavitation on a reactor).
 */
export function createFault(spec: FaultSpec, id: number, nowMs: number): ActiveFault {
  if (!FAULT_KINDS.includes(spec.kind))
    throw new Error(`unknown fault kind '${String(spec.kind)}', expected one of ${FAULT_KINDS.join(', ')}`);
  const sensors = sensorTagsOf(spec.equipmentId);
  if (sensors.length === 0) throw new Error(`unknown equipment '${spec.equipmentId}' for the simulator`);
  if (
    (spec.kind === 'cooling_degradation' || spec.kind === 'cavitation') &&
    EQUIPMENT_FOR[spec.kind] !== spec.equipmentId
  ) {
    throw new Error(`fault '${spec.kind}' applies to ${EQUIPMENT_FOR[spec.kind]}, not ${spec.equipmentId}`);
  }
  let tagPath: string | undefined;
  if (SENSOR_FAULTS.has(spec.kind)) {
    tagPath = spec.tagPath ?? sensors[0];
    if (tagPath === undefined || !sensors.includes(tagPath)) {
      throw new Error(`tag '${String(spec.tagPath)}' is not a sensor of ${spec.equipmentId}`);
    }
  }
  const d = DEFAULTS[spec.kind];
  const durationMs = spec.durationMs ?? d.durationMs;
  if (!(durationMs > 0)) throw new Error(`fault durationMs must be positive, got ${durationMs}`);
  const span = tagPath ? (PLANT_SENSORS.get(tagPath)?.high ?? 1) - (PLANT_SENSORS.get(tagPath)?.low ?? 0) : 1;
  const defaultMagnitude =
    spec.kind === 'spike'
      ? 0.3 * span
      : spec.kind === 'step'
        ? 0.15 * span
        : spec.kind === 'cooling_degradation'
          ? 0.8
          : 1;
  const magnitude = spec.magnitude ?? defaultMagnitude;
  if (!Number.isFinite(magnitude)) throw new Error(`fault magnitude must be finite, got ${magnitude}`);
  return {
    id,
    kind: spec.kind,
    equipmentId: spec.equipmentId,
    tagPath,
    startMs: nowMs,
    endMs: nowMs + durationMs,
    rampMs: spec.rampMs ?? d.rampMs,
    magnitude,
  };
}

function progress(f: ActiveFault, nowMs: number): number {
  return f.rampMs <= 0 ? 1 : Math.min(1, Math.max(0, (nowMs - f.startMs) / f.rampMs));
}

/** Combines the process faults active at `nowMs` into one load for the physics. */
export function processLoad(faults: readonly ActiveFault[], nowMs: number): ProcessLoad {
  let coolingHealth = 1;
  let cavitation = 0;
  const bearingWear = new Map<string, number>();
  for (const f of faults) {
    const p = progress(f, nowMs);
    if (f.kind === 'cooling_degradation')
      coolingHealth = Math.min(coolingHealth, 1 - Math.min(0.95, f.magnitude) * p);
    else if (f.kind === 'cavitation') cavitation = Math.max(cavitation, Math.min(1, f.magnitude) * p);
    else if (f.kind === 'bearing_wear')
      bearingWear.set(
        f.equipmentId,
        Math.max(bearingWear.get(f.equipmentId) ?? 0, Math.min(1, f.magnitude) * p),
      );
  }
  return { coolingHealth, cavitation, bearingWear };
}

/** Applies the sensor faults to the measured values in place (the ground truth keeps the clean ones). */
export function applySensorFaults(faults: readonly ActiveFault[], measured: Map<string, number>): void {
  for (const f of faults) {
    if (f.tagPath === undefined) continue;
    const v = measured.get(f.tagPath);
    const spec = PLANT_SENSORS.get(f.tagPath);
    if (v === undefined || spec === undefined) continue;
    let out = v;
    if (f.kind === 'stuck') {
      if (f.frozenValue === undefined) f.frozenValue = v;
      out = f.frozenValue;
    } else if (f.kind === 'spike' || f.kind === 'step') out = v + f.magnitude;
    measured.set(f.tagPath, Math.min(spec.high, Math.max(spec.low, out)));
  }
}

/** Picks the next scheduled fault from the seeded generator; undefined when that process fault is already active. */
export function pickScheduledFault(rng: SeededRandom, active: readonly ActiveFault[]): FaultSpec | undefined {
  const kind = FAULT_KINDS[rng.int(FAULT_KINDS.length)] as FaultKind;
  let equipmentId: string;
  if (kind === 'cooling_degradation' || kind === 'cavitation') equipmentId = EQUIPMENT_FOR[kind];
  else if (kind === 'bearing_wear') equipmentId = rng.next() < 0.5 ? 'PUMP_02' : 'CONVEYOR_03';
  else equipmentId = (['REACTOR_01', 'PUMP_02', 'CONVEYOR_03'] as const)[rng.int(3)] as string;
  const sensors = sensorTagsOf(equipmentId);
  const tagPath = SENSOR_FAULTS.has(kind) ? sensors[rng.int(sensors.length)] : undefined;
  if (active.some((f) => f.kind === kind && f.equipmentId === equipmentId && f.tagPath === tagPath))
    return undefined;
  return tagPath === undefined ? { kind, equipmentId } : { kind, equipmentId, tagPath };
}
