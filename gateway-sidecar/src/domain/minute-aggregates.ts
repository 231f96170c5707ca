/**
 * The aggregate-only write mode of a scale-out worker (`scale.writeMode: aggregates`,
 * docs/scale-out.md): instead of one bronze and one silver row per event, a worker writes
 * - per sensor and minute of source time one aggregate row (count, good count, min, max, sum, sum
 *   of squares, first, last — the columns of mining_operations.sensor_minute_aggregates), written
 *   once the minute is over: when the sensor's next reading falls in a later minute, or when the
 *   partition's stream time (largest source time seen) is `closeAfterMs` past the minute's end.
 *   A reading that still arrives for a written minute (late, same minute) writes it again with
 *   more samples. So a sensor costs about one row per minute, not one per reading; and
 * - silver rows (scores, features, explanation) only for anomalous readings and for the readings of
 *   the same equipment up to `contextMs` of source time after an anomaly (the anomaly context).
 *
 * All of it depends only on the readings in stream order, and the state (open minutes, stream
 * time, context ends) is part of the partition snapshot, so a partition moved to another worker
 * writes the same rows.
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
  /** Changed since it was last written. */
  dirty: boolean;
}

const MAGIC = 'AIMA';
const VERSION = 1;

export class AggregateOnlyState {
  readonly #contextMs: number;
  readonly #closeAfterMs: number;
  readonly #open = new Map<string, Open>();
  /** Dirty open minutes by minute start: the ones the stream time can close. */
  readonly #dirty = new Map<number, Set<string>>();
  /** Largest source time seen (the partition's stream time). */
  #watermark = -Infinity;
  /** Per equipment: source time up to which its readings are anomaly context. */
  readonly #contextUntil = new Map<string, number>();

  constructor(contextMs: number, closeAfterMs = 60_000) {
    if (!Number.isInteger(contextMs) || contextMs < 0)
      throw new RangeError(`contextMs must be an integer >= 0, got '${contextMs}'`);
    if (!Number.isInteger(closeAfterMs) || closeAfterMs < 0)
      throw new RangeError(`closeAfterMs must be an integer >= 0, got '${closeAfterMs}'`);
    this.#contextMs = contextMs;
    this.#closeAfterMs = closeAfterMs;
  }

  #markDirty(tag: string, o: Open): void {
    o.dirty = true;
    let set = this.#dirty.get(o.minuteMs);
    if (set === undefined) this.#dirty.set(o.minuteMs, (set = new Set()));
    set.add(tag);
  }

  #written(tag: string, o: Open): MinuteAggregate {
    o.dirty = false;
    this.#dirty.get(o.minuteMs)?.delete(tag);
    if (this.#dirty.get(o.minuteMs)?.size === 0) this.#dirty.delete(o.minuteMs);
    const { dirty: _dirty, ...row } = o;
    return { tagPath: tag, ...row };
  }

  /**
   * Adds scored readings in stream order (one tag's timestamps never decrease: the validator
   * rejects older ones). Returns the readings to keep as silver rows and the minute rows to write
   * (minutes that are over and changed since they were last written).
   */
  take(scored: readonly ScoredReading[]): { keep: ScoredReading[]; minutes: MinuteAggregate[] } {
    const keep: ScoredReading[] = [];
    const minutes: MinuteAggregate[] = [];
    for (const s of scored) {
      const r = s.reading;
      const t = r.sourceTimestampMs;
      const tag = r.tag.tagPath;
      const eq = r.tag.equipmentId;
      if (t > this.#watermark) this.#watermark = t;
      if (s.isAnomaly)
        this.#contextUntil.set(eq, Math.max(this.#contextUntil.get(eq) ?? -Infinity, t + this.#contextMs));
      if (s.isAnomaly || t <= (this.#contextUntil.get(eq) ?? -Infinity)) keep.push(s);

      const minuteMs = Math.floor(t / 60_000) * 60_000;
      const v = r.value;
      const good = r.quality === 'good' ? 1 : 0;
      let o = this.#open.get(tag);
      if (o === undefined || o.minuteMs !== minuteMs) {
        // The sensor moved on to a later minute: the previous one is final.
        if (o !== undefined && o.dirty) minutes.push(this.#written(tag, o));
        o = {
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
          dirty: false,
        };
        this.#open.set(tag, o);
      } else {
        o.count++;
        o.goodCount += good;
        o.min = Math.min(o.min, v);
        o.max = Math.max(o.max, v);
        o.sum += v;
        o.sumSquares += v * v;
        o.last = v;
      }
      if (!o.dirty) this.#markDirty(tag, o);
    }
    // Minutes the stream time has left behind by more than closeAfterMs, in minute then tag order
    // (not in the order the tags were marked dirty, which a restored snapshot does not keep).
    for (const minuteMs of [...this.#dirty.keys()].sort((x, y) => x - y)) {
      if (minuteMs + 60_000 + this.#closeAfterMs > this.#watermark) break;
      const tags = [...(this.#dirty.get(minuteMs) ?? [])].sort();
      for (const tag of tags) minutes.push(this.#written(tag, this.#open.get(tag) as Open));
    }
    return { keep, minutes };
  }

  /** Open minutes, stream time and context ends as bytes (`AIMA` v1). */
  snapshot(): Uint8Array {
    const w = new StateWriter();
    writeHeader(w, MAGIC, VERSION);
    w.f64(this.#contextMs);
    w.f64(this.#closeAfterMs);
    w.f64(this.#watermark);
    w.u32(this.#open.size);
    for (const [tag, o] of this.#open) {
      w.str(tag);
      w.str(o.equipmentId);
      w.str(o.sensorType);
      for (const v of [
        o.minuteMs,
        o.count,
        o.goodCount,
        o.min,
        o.max,
        o.sum,
        o.sumSquares,
        o.first,
        o.last,
        o.dirty ? 1 : 0,
      ])
        w.f64(v);
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
    this.#clear();
    try {
      const r = new StateReader(bytes, 'minute-aggregate snapshot');
      r.header(MAGIC, VERSION);
      const contextMs = r.f64('contextMs');
      if (contextMs !== this.#contextMs)
        r.fail(`taken with contextMs ${contextMs}, this worker has ${this.#contextMs}`);
      const closeAfterMs = r.f64('closeAfterMs');
      if (closeAfterMs !== this.#closeAfterMs)
        r.fail(`taken with closeAfterMs ${closeAfterMs}, this worker has ${this.#closeAfterMs}`);
      this.#watermark = r.f64('stream time');
      const n = r.u32('open minute count');
      for (let i = 0; i < n; i++) {
        const tag = r.str(`minute ${i} tag`);
        const equipmentId = r.str(`minute '${tag}' equipment`);
        const sensorType = r.str(`minute '${tag}' sensor type`);
        const [minuteMs, count, goodCount, min, max, sum, sumSquares, first, last, dirty] = Array.from(
          { length: 10 },
          () => r.f64(`minute '${tag}'`),
        ) as [number, number, number, number, number, number, number, number, number, number];
        if (!(count >= 1) || !Number.isInteger(count)) r.fail(`minute '${tag}' has count ${count}`);
        if (dirty !== 0 && dirty !== 1) r.fail(`minute '${tag}' has dirty flag ${dirty}`);
        if (this.#open.has(tag)) r.fail(`minute of '${tag}' appears twice`);
        const o: Open = {
          equipmentId,
          sensorType,
          minuteMs,
          count,
          goodCount,
          min,
          max,
          sum,
          sumSquares,
          first,
          last,
          dirty: false,
        };
        this.#open.set(tag, o);
        if (dirty === 1) this.#markDirty(tag, o);
      }
      const m = r.u32('context count');
      for (let i = 0; i < m; i++) {
        const eq = r.str(`context ${i} equipment`);
        this.#contextUntil.set(eq, r.f64(`context '${eq}' end`));
      }
      r.end();
    } catch (err) {
      this.#clear();
      throw err;
    }
  }

  #clear(): void {
    this.#open.clear();
    this.#dirty.clear();
    this.#contextUntil.clear();
    this.#watermark = -Infinity;
  }
}
