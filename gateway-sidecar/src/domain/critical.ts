/**
 * Critical alert bypass, detection half: an emergency threshold crossing becomes an alert
 * candidate at once, without features or the model. Re-arm hysteresis: after alerting, a tag
 * alerts again only once its value has gone back past the emergency level by `rearmFraction` of the
 * instrument range, so a value sitting above the level does not alert every sample.
 *
 * Stateful but pure (no I/O, no clock): feed every reading in source order, replayed ones too, so
 * the armed state after a restart equals an uninterrupted run.
 */
import type { SensorTag } from './equipment.ts';
import type { CriticalAlertView } from './recommendation-view.ts';
import type { SensorReading } from './tag-event.ts';

export interface CriticalAlertCandidate {
  /** Stable per crossing (tag + source time), so a replay writes the same alert id. */
  readonly id: string;
  readonly equipmentId: string;
  readonly sensorType: string;
  readonly tagPath: string;
  readonly value: number;
  readonly threshold: number;
  readonly level: 'emergency';
  readonly message: string;
  /** ISO 8601 source time of the crossing sample. */
  readonly at: string;
  readonly sourceTimestampMs: number;
  readonly receivedTimestampMs: number;
}

export interface CriticalOptions {
  /** Re-arm distance as a fraction of (engHigh − engLow); default 0.02. */
  readonly rearmFraction?: number;
}

/** True when `value` is at or beyond the emergency level in the alarm direction. */
export function isBeyondEmergency(tag: Pick<SensorTag, 'thresholds'>, value: number): boolean {
  const t = tag.thresholds;
  if (t === undefined) return false;
  return t.direction === 'high' ? value >= t.emergency : value <= t.emergency;
}

export class CriticalDetector {
  readonly #rearmFraction: number;
  /** Tags that alerted and have not re-armed yet. */
  readonly #latched = new Set<string>();

  constructor(options: CriticalOptions = {}) {
    const f = options.rearmFraction ?? 0.02;
    if (!(f >= 0 && f < 1)) throw new RangeError(`rearmFraction must be in [0, 1), got ${f}`);
    this.#rearmFraction = f;
  }

  /** Returns zero or one alert for the reading (an array to match the bypass port). */
  evaluate(reading: SensorReading): readonly CriticalAlertCandidate[] {
    const tag = reading.tag;
    const t = tag.thresholds;
    if (t === undefined) return NONE;
    const v = reading.value;
    if (this.#latched.has(tag.tagPath)) {
      const band = this.#rearmFraction * (tag.engHigh - tag.engLow);
      const rearmed = t.direction === 'high' ? v < t.emergency - band : v > t.emergency + band;
      if (rearmed) this.#latched.delete(tag.tagPath);
      return NONE;
    }
    if (!isBeyondEmergency(tag, v)) return NONE;
    this.#latched.add(tag.tagPath);
    const cmp = t.direction === 'high' ? '≥' : '≤';
    const unit = tag.unit === '' ? '' : ` ${tag.unit}`;
    return [
      {
        id: `crit-${tag.tagPath}@${reading.sourceTimestampMs}`,
        equipmentId: tag.equipmentId,
        sensorType: tag.sensorType,
        tagPath: tag.tagPath,
        value: v,
        threshold: t.emergency,
        level: 'emergency',
        message: `EMERGENCY: ${tag.equipmentId} ${tag.sensorType} ${formatReading(v)}${unit} ${cmp} emergency level ${t.emergency}${unit}`,
        at: new Date(reading.sourceTimestampMs).toISOString(),
        sourceTimestampMs: reading.sourceTimestampMs,
        receivedTimestampMs: reading.receivedTimestampMs,
      },
    ];
  }

  /** Latched tags (scale-out partition snapshots). */
  latchedTags(): string[] {
    return [...this.#latched];
  }
  /** Restores `latchedTags()`: those tags stay silent until they re-arm. */
  restoreLatched(tags: readonly string[]): void {
    this.#latched.clear();
    for (const t of tags) this.#latched.add(t);
  }

  /** Whether a tag is latched (alerted, not yet re-armed). */
  isLatched(tagPath: string): boolean {
    return this.#latched.has(tagPath);
  }
}

const NONE: readonly CriticalAlertCandidate[] = Object.freeze([]);

/** Operator-facing number: 4 significant digits (7.848 mm/s, 91.23 °C), never a float tail. */
export function formatReading(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/**
 * The alert as clients see it. One builder for the early push and the durable change-log row, so
 * a change replayed after a reconnect carries exactly what was pushed live.
 */
export function alertView(a: CriticalAlertCandidate): CriticalAlertView {
  return {
    id: a.id,
    equipmentId: a.equipmentId,
    sensorType: a.sensorType,
    tagPath: a.tagPath,
    value: a.value,
    threshold: a.threshold,
    level: a.level,
    message: a.message,
    at: a.at,
  };
}
