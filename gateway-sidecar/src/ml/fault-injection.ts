/**
 * Synthetic equipment histories and injected faults: the Random Forest's training data while no
 * operator labels exist. Normal series are generic (AR(1) noise, a shared load factor across
 * sensors, slow wander, quantised sensors, random levels and noise scales) so the forest learns
 * fault *shapes* in scale-free features, not the look of one plant. Faults: drift, step, spike
 * burst, variance change, flatline; each hits a random subset of the equipment's sensors.
 */
import { gaussian, type Rng } from './random.ts';

export const FAULT_KINDS = ['drift', 'step', 'spikes', 'variance', 'flatline'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface EquipmentSeries {
  /** values[s][t] for sensor s at sample t. */
  readonly values: Float64Array[];
  /** Per sensor: its normal noise standard deviation (fault sizes are in these units). */
  readonly sigma: Float64Array;
}

export interface Fault {
  readonly kind: FaultKind;
  readonly start: number;
  readonly length: number;
  readonly sensors: readonly number[];
  /** Size in sigmas (drift: at the end of the ramp). */
  readonly magnitude: number;
}

/** A normal multi-sensor history of `length` samples. */
export function generateNormal(rng: Rng, sensors: number, length: number): EquipmentSeries {
  const values: Float64Array[] = [];
  const sigma = new Float64Array(sensors);
  const load = new Float64Array(length);
  let l = 0;
  for (let t = 0; t < length; t++) {
    l = 0.98 * l + 0.2 * gaussian(rng);
    load[t] = l;
  }
  for (let s = 0; s < sensors; s++) {
    const level = Math.exp(rng() * 6 - 1); // 0.4 .. 150
    const noise = level * Math.exp(-7 + rng() * 4); // 0.1 % .. 5 % of the level
    // A third of the sensors are smooth and slowly wandering (temperatures): their window std is
    // dominated by the wander, not the noise, and the forest must see that as normal.
    const smooth = rng() < 0.35;
    const phi = smooth ? 0.95 + rng() * 0.049 : rng() * 0.9;
    const coupling = (rng() - 0.5) * 2;
    const wander = noise * (smooth ? 0.02 + rng() * 0.1 : rng() * 0.02);
    const quantum = rng() < 0.2 ? noise * (0.5 + rng() * 2) : 0;
    const v = new Float64Array(length);
    let e = 0;
    let w = 0;
    for (let t = 0; t < length; t++) {
      e = phi * e + Math.sqrt(1 - phi * phi) * noise * gaussian(rng);
      w += wander * gaussian(rng);
      let x = level + e + w + coupling * noise * (load[t] as number);
      if (quantum > 0) x = Math.round(x / quantum) * quantum;
      v[t] = x;
    }
    values.push(v);
    sigma[s] = noise;
  }
  return { values, sigma };
}

/** Draws a random fault that starts at or after `earliest` and ends before `length`. */
export function randomFault(rng: Rng, sensors: number, earliest: number, length: number): Fault {
  const len = Math.max(10, Math.floor((length - earliest) * (0.2 + rng() * 0.5)));
  const start = earliest + Math.floor(rng() * Math.max(1, length - earliest - len));
  // A third of the faults are small shifts (1.5-4 σ) of several sensors together: a process
  // change (a valve closing, a blockage) moves correlated sensors a little each, and only the
  // equipment-level view shows it.
  if (sensors >= 2 && rng() < 0.33) {
    const k2 = 2 + Math.floor(rng() * (sensors - 1));
    const set = new Set<number>();
    while (set.size < k2) set.add(Math.floor(rng() * sensors));
    return {
      kind: rng() < 0.7 ? 'step' : 'drift',
      start,
      length: len,
      sensors: [...set].sort((a, b) => a - b),
      magnitude: 1.5 + rng() * 2.5,
    };
  }
  const kind = FAULT_KINDS[Math.floor(rng() * FAULT_KINDS.length)] as FaultKind;
  const k = 1 + Math.floor(rng() * sensors);
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(Math.floor(rng() * sensors));
  const magnitude =
    kind === 'spikes' ? 6 + rng() * 10 : kind === 'variance' ? 2.5 + rng() * 4 : 3 + rng() * 10;
  return { kind, start, length: len, sensors: [...chosen].sort((a, b) => a - b), magnitude };
}

/** Returns a copy of `series` with `fault` applied (the input is not changed). */
export function injectFault(rng: Rng, series: EquipmentSeries, fault: Fault): EquipmentSeries {
  const values = series.values.map((v) => Float64Array.from(v));
  for (const s of fault.sensors) {
    const v = values[s] as Float64Array;
    const sig = (series.sigma[s] as number) || 1e-6;
    const sign = rng() < 0.5 ? -1 : 1;
    const end = Math.min(v.length, fault.start + fault.length);
    const held = v[fault.start] as number;
    for (let t = fault.start; t < end; t++) {
      const u = (t - fault.start) / Math.max(1, fault.length - 1);
      switch (fault.kind) {
        case 'drift':
          v[t] = (v[t] as number) + sign * fault.magnitude * sig * u;
          break;
        case 'step':
          v[t] = (v[t] as number) + sign * fault.magnitude * sig;
          break;
        case 'spikes':
          if (rng() < 0.08) v[t] = (v[t] as number) + (rng() < 0.5 ? -1 : 1) * fault.magnitude * sig;
          break;
        case 'variance':
          v[t] = (v[t] as number) + (fault.magnitude - 1) * sig * gaussian(rng);
          break;
        case 'flatline':
          v[t] = held;
          break;
      }
    }
  }
  return { values, sigma: series.sigma };
}
