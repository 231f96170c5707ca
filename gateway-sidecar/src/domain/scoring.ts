/**
 * Score post-processing, pure: the ensemble blend, severity, the explanation operators see, and
 * the alarm gate (on-delay / off-delay hysteresis, ISA-18.2 style) that turns scores into alarms.
 * Takes model output numbers; never an ONNX session (STYLE.md §2).
 */
import type { Contribution, Severity } from './detection.ts';
import { FEATURE_INDEX, type FeatureName } from './features.ts';
import type { Thresholds } from './equipment.ts';
import { StateReader, StateWriter, writeHeader } from './state-codec.ts';

export interface EnsembleWeights {
  readonly ifWeight: number;
  readonly rfWeight: number;
}

/** ifWeight × IF + rfWeight × RF, clamped to [0, 1]. */
export function blendScores(ifScore: number, rfScore: number, w: EnsembleWeights): number {
  const s = w.ifWeight * ifScore + w.rfWeight * rfScore;
  return s < 0 ? 0 : s > 1 ? 1 : s;
}

/**
 * Severity from the ensemble score and the engineering thresholds. The value's position against
 * warning / critical / emergency sets the floor (an emergency value is critical whatever the
 * model says); the score above the anomaly line raises it: ≥ line → low, ≥ line + ⅓ of the
 * headroom → medium, ≥ + ⅔ → high.
 */
export function severityOf(
  score: number,
  anomalyLine: number,
  value: number,
  t: Thresholds | undefined,
): Severity {
  let byLevel = 0;
  if (t !== undefined) {
    // Signed so one comparison serves both directions (called once per event: no closure).
    const sign = t.direction === 'high' ? 1 : -1;
    const v = sign * value;
    byLevel = v >= sign * t.emergency ? 3 : v >= sign * t.critical ? 2 : v >= sign * t.warning ? 1 : 0;
  }
  const head = Math.max(1e-9, 1 - anomalyLine);
  const byScore = score >= anomalyLine + (2 * head) / 3 ? 2 : score >= anomalyLine + head / 3 ? 1 : 0;
  return SEVERITY_LEVELS[byLevel > byScore ? byLevel : byScore] as Severity;
}

const SEVERITY_LEVELS: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** Features whose magnitude measures "how unusual" in sigma-like units, with their normal value. */
const EXPLAINING: readonly (readonly [FeatureName, number])[] = [
  ['z_score', 0],
  ['level_shift', 0],
  ['ewma_gap', 0],
  ['step_z', 0],
  ['volatility_ratio', 1],
  ['equipment_deviation', 0],
];

/**
 * Top `k` contributing features of one row: each explaining feature's distance from its normal
 * value, as a share of the total (weights sum to 1). Deterministic and cheap; it names what moved.
 */
export function explainRow(
  row: ArrayLike<number>,
  offset: number,
  k: number,
  tag: { readonly tagPath: string; readonly sensorType: string },
): Contribution[] {
  const parts = EXPLAINING.map(([name, normal]) => {
    const v = row[offset + FEATURE_INDEX[name]] as number;
    const d =
      name === 'volatility_ratio' ? Math.abs(Math.log(Math.max(v, 1e-3) / normal)) : Math.abs(v - normal);
    return { name, v, d: Number.isFinite(d) ? d : 0 };
  });
  const total = parts.reduce((s, p) => s + p.d, 0);
  if (total <= 0) return [];
  return parts
    .sort((a, b) => b.d - a.d)
    .slice(0, k)
    .map((p) => ({
      feature: p.name,
      sensorType: tag.sensorType,
      tagPath: tag.tagPath,
      value: p.v,
      weight: p.d / total,
    }));
}

export interface AlarmGateOptions {
  /** Consecutive ticks at or above the line before the alarm raises (on-delay). */
  readonly onDelayTicks: number;
  /** Consecutive ticks below the line before it clears (off-delay). */
  readonly offDelayTicks: number;
  /** After this many ticks in alarm the feature windows learn again (a lasting new regime is accepted). */
  readonly relearnAfterTicks: number;
}

/**
 * Alarm discipline (ISA-18.2 style). On-delay 15 ticks: a condition must outlast the memory of
 * the fast EWMA (span 10 samples; a one-sample blip still weighs e^-2 ≈ 0.13 after 10 samples
 * and under 0.06 after 15) before it alarms, so a single blip on one sensor (and the
 * equipment_deviation it raises on the others) cannot alarm on its own. Off-delay 30 ticks: one
 * alarm per fault, not one per dip of the score inside it. Maximum freeze 350 ticks: the windows
 * stop learning while in alarm, but a condition standing that long is re-baselined (it becomes
 * the new normal, the alarm clears unless the state keeps moving), so an alarm is not held for
 * ever when the plant settles at a slightly different state after a fault. The windows also stop
 * learning while the score is above the line during the on-delay, so the first ticks of a fault
 * do not become the reference it is measured against. Checked leave-files-out on SKAB valve1
 * and against the anomaly-free file, see docs/detection.md.
 */
export const DEFAULT_GATE: AlarmGateOptions = { onDelayTicks: 15, offDelayTicks: 30, relearnAfterTicks: 350 };

/** Alarm-gate snapshot format: magic, version, bytes per gate after its key (domain/snapshot-delta.ts reads it). */
export const GATE_SNAPSHOT = { magic: 'AIAG', version: 1, gateBytes: 48 } as const;

interface GateState {
  tickMs: number;
  tickMax: number;
  above: number;
  below: number;
  active: boolean;
  activeTicks: number;
}

/**
 * Per-equipment alarm with hysteresis. A tick is one source timestamp of the equipment (all its
 * readings stamped alike form one tick), so delays count samples and do not depend on cadence.
 */
export class AlarmGate {
  readonly #o: AlarmGateOptions;
  readonly #state = new Map<string, GateState>();

  constructor(options: AlarmGateOptions) {
    if (options.onDelayTicks < 1 || options.offDelayTicks < 1)
      throw new RangeError('alarm delays must be at least 1 tick');
    this.#o = options;
  }

  /**
   * Whether the equipment's readings may enter the feature windows. Not while it is in alarm,
   * until it has been for `relearnAfterTicks` (then a lasting regime is learnt). Not while an
   * alarm is pending either: the latest closed tick was at or above the line and the on-delay is
   * counting (a suspect reading must not become the reference; bounded by the on-delay, since a
   * run above the line either raises the alarm or ends).
   */
  isLearning(key: string): boolean {
    const s = this.#state.get(key);
    if (s === undefined) return true;
    return s.active ? s.activeTicks >= this.#o.relearnAfterTicks : s.above === 0;
  }

  /** Adds one reading's score; returns whether the equipment is in alarm including this tick so far. */
  observe(key: string, tMs: number, score: number, line: number): boolean {
    let s = this.#state.get(key);
    if (s === undefined) {
      s = { tickMs: tMs, tickMax: -1, above: 0, below: 0, active: false, activeTicks: 0 };
      this.#state.set(key, s);
    }
    if (tMs !== s.tickMs && s.tickMax >= 0) this.#closeTick(s, line);
    if (tMs !== s.tickMs || s.tickMax < 0) {
      s.tickMs = tMs;
      s.tickMax = score;
    } else if (score > s.tickMax) s.tickMax = score;
    if (s.tickMax >= line) return s.active || s.above + 1 >= this.#o.onDelayTicks;
    return s.active && s.below + 1 < this.#o.offDelayTicks;
  }

  #closeTick(s: GateState, line: number): void {
    if (s.tickMax >= line) {
      s.above++;
      s.below = 0;
      if (s.above >= this.#o.onDelayTicks) s.active = true;
    } else {
      s.below++;
      s.above = 0;
      if (s.below >= this.#o.offDelayTicks) s.active = false;
    }
    s.activeTicks = s.active ? s.activeTicks + 1 : 0;
  }

  /** Every equipment's gate as bytes (`AIAG` v1: u32 count × (key str, 6 f64)); see `restore`. */
  snapshot(): Uint8Array {
    const w = new StateWriter();
    writeHeader(w, GATE_SNAPSHOT.magic, GATE_SNAPSHOT.version);
    w.u32(this.#state.size);
    for (const [key, s] of this.#state) {
      w.str(key);
      for (const v of [s.tickMs, s.tickMax, s.above, s.below, s.active ? 1 : 0, s.activeTicks]) w.f64(v);
    }
    return w.finish();
  }

  /** Replaces every gate with a `snapshot()`; throws StateFormatError (gates left empty) on a bad one. */
  restore(bytes: Uint8Array): void {
    this.#state.clear();
    try {
      const r = new StateReader(bytes, 'alarm-gate snapshot');
      r.header(GATE_SNAPSHOT.magic, GATE_SNAPSHOT.version);
      const n = r.u32('gate count');
      for (let i = 0; i < n; i++) {
        const key = r.str(`gate ${i} key`);
        const [tickMs, tickMax, above, below, active, activeTicks] = Array.from({ length: 6 }, () =>
          r.f64(`gate '${key}'`),
        ) as [number, number, number, number, number, number];
        if (active !== 0 && active !== 1) r.fail(`gate '${key}' active flag is ${active}`);
        this.#state.set(key, { tickMs, tickMax, above, below, active: active === 1, activeTicks });
      }
      r.end();
    } catch (err) {
      this.#state.clear();
      throw err;
    }
  }
}
