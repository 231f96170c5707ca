/**
 * The aggregate-only write mode of a scale-out worker (`scale.writeMode: aggregates`,
 * docs/scale-out.md): instead of one bronze and one silver row per event, a worker writes
 * - per sensor and minute of source time one aggregate row (count, good count, min, max, sum, sum
 *   of squares, first, last — the columns of mining_operations.sensor_minute_aggregates), upserted
 *   as the minute fills, and
 * - silver rows (scores, features, explanation) only for anomalous readings and for the readings of
 *   the same equipment up to `contextMs` of source time after an anomaly (the anomaly context).
 *
 * Both depend only on the readings in stream order, and their state (open minutes, context ends)
 * is part of the partition snapshot, so a partition moved to another worker writes the same rows.
 *
 * Pure: time comes with each reading (STYLE.md §2).
 */
import type { ScoredReading } from './detection.ts';
import { StateReader, StateWriter, writeHeader } from './state-codec.ts';

export interface MinuteAggregate {
  readonly tagPath: string;
  /** Start of the minute, epoch ms. */
  readonly minuteMs: number;
  readonly equipmentId: string;
  readonly sensorType: string;
  readonly count: number;
  readonly goodCount: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly sumSquares: number;
  readonly first: number;
  readonly last: number;
}

interface Open {
  equipmentId: string;
  sensorType: string;
  minuteMs: number;
  count: number;
  goodCount: number;
  min: number;
  max: number;
  sum: number;
  sumSquares: number;
  first: number;
  last: number;
}

const MAGIC = 'AIMA';
const VERSION = 1;

export class AggregateOnlyState {
  readonly #contextMs: number;
  readonly #open = new Map<string, Open>();
  /** Per equipment: source time up to which its readings are anomaly context. */
  readonly #contextUntil = new Map<string, number>();

  constructor(contextMs: number) {
    if (!Number.isInteger(contextMs) || contextMs < 0) throw new RangeError(`contextMs must be an integer >= 0, got '${contextMs}'`);
    this.#contextMs = contextMs;
  }

  /**
   * Adds scored readings in stream order (one tag's timestamps never decrease: the validator
   * rejects older ones). Returns the readings to keep as silver rows and the values of every
   * minute the readings touched: final for minutes that closed in this batch, current for open ones.
   */
  take(scored: readonly ScoredReading[]): { keep: ScoredReading[]; minutes: MinuteAggregate[] } {
    const keep: ScoredReading[] = [];
    const touched = new Set<string>();
    const closed: MinuteAggregate[] = [];
    for (const s of scored) {
      const r = s.reading;
      const t = r.sourceTimestampMs;
      const eq = r.tag.equipmentId;
      if (s.isAnomaly) this.#contextUntil.set(eq, Math.max(this.#contextUntil.get(eq) ?? -Infinity, t + this.#contextMs));
      if (s.isAnomaly || t <= (this.#contextUntil.get(eq) ?? -Infinity)) keep.push(s);

      const minuteMs = Math.floor(t / 60_000) * 60_000;
      const v = r.value;
      const good = r.quality === 'good' ? 1 : 0;
      const o = this.#open.get(r.tag.tagPath);
      if (o === undefined || o.minuteMs !== minuteMs) {
        // A minute this batch added to closes here: its final values go out with the batch.
        if (o !== undefined && touched.has(r.tag.tagPath)) closed.push({ tagPath: r.tag.tagPath, ...o });
        this.#open.set(r.tag.tagPath, {
          equipmentId: eq,
          sensorType: r.tag.sensorType,
          minuteMs,
          count: 1,
          goodCount: good,
          min: v,
          max: v,
          sum: v,
          sumSquares: v * v,
          first: v,
          last: v,
        });
      } else {
        o.count++;
        o.goodCount += good;
        o.min = Math.min(o.min, v);
        o.max = Math.max(o.max, v);
        o.sum += v;
        o.sumSquares += v * v;
        o.last = v;
      }
      touched.add(r.tag.tagPath);
    }
    const minutes: MinuteAggregate[] = closed;
    for (const tag of touched) minutes.push({ tagPath: tag, ...(this.#open.get(tag) as Open) });
    return { keep, minutes };
  }

  /** Open minutes and context ends as bytes (`AIMA` v1). */
  snapshot(): Uint8Array {
    const w = new StateWriter();
    writeHeader(w, MAGIC, VERSION);
    w.f64(this.#contextMs);
    w.u32(this.#open.size);
    for (const [tag, o] of this.#open) {
      w.str(tag);
      w.str(o.equipmentId);
      w.str(o.sensorType);
      for (const v of [o.minuteMs, o.count, o.goodCount, o.min, o.max, o.sum, o.sumSquares, o.first, o.last]) w.f64(v);
    }
    w.u32(this.#contextUntil.size);
    for (const [eq, until] of this.#contextUntil) {
      w.str(eq);
      w.f64(until);
    }
    return w.finish();
  }

  /** Replaces the state with a `snapshot()`; throws StateFormatError (state left empty) on a bad one. */
  restore(bytes: Uint8Array): void {
    this.#open.clear();
    this.#contextUntil.clear();
    try {
      const r = new StateReader(bytes, 'minute-aggregate snapshot');
      r.header(MAGIC, VERSION);
      const contextMs = r.f64('contextMs');
      if (contextMs !== this.#contextMs) r.fail(`taken with contextMs ${contextMs}, this worker has ${this.#contextMs}`);
      const n = r.u32('open minute count');
      for (let i = 0; i < n; i++) {
        const tag = r.str(`minute ${i} tag`);
        const equipmentId = r.str(`minute '${tag}' equipment`);
        const sensorType = r.str(`minute '${tag}' sensor type`);
        const [minuteMs, count, goodCount, min, max, sum, sumSquares, first, last] = Array.from({ length: 9 }, () => r.f64(`minute '${tag}'`)) as [
          number, number, number, number, number, number, number, number, number,
        ];
        if (!(count >= 1) || !Number.isInteger(count)) r.fail(`minute '${tag}' has count ${count}`);
        this.#open.set(tag, { equipmentId, sensorType, minuteMs, count, goodCount, min, max, sum, sumSquares, first, last });
      }
      const m = r.u32('context count');
      for (let i = 0; i < m; i++) {
        const eq = r.str(`context ${i} equipment`);
        this.#contextUntil.set(eq, r.f64(`context '${eq}' end`));
      }
      r.end();
    } catch (err) {
      this.#open.clear();
      this.#contextUntil.clear();
      throw err;
    }
  }
}
