/**
 * Rolling-window features per equipment + sensor: the ONNX input contract.
 *
 * State per sensor is a fixed block of a paged Float64Array: a handful of scalars plus
 * `bucketCount` time buckets holding count / sum / sum of squares / min / max. A reading touches
 * one bucket and the running window totals, so an update is O(1); when time moves past a bucket
 * it is subtracted from the totals and reused (min/max are recomputed over the live buckets only
 * then, which amortises to O(1) per reading). Memory per sensor is ~(18 + 7 × bucketCount) × 8
 * bytes whatever the event rate: 5.5 KB with the default 96 buckets.
 *
 * The buckets also sum the fast EWMA, so `level_shift` is measured in units of the smoothed
 * signal's own spread: a sustained shift of a noisy sensor shows at its true size (a 30-sample
 * mean of white noise varies √10 times less than the samples).
 *
 * Sums are kept relative to the sensor's first value, so the variance of a 230 V signal with a
 * 0.1 V spread does not vanish in floating-point cancellation.
 *
 * Pure: time comes in with each reading; no clock, no I/O (STYLE.md §2).
 */
import type { SensorReading } from './tag-event.ts';
import { StateReader, StateWriter, writeHeader } from './state-codec.ts';

/** Feature names in ONNX input order. Changing this order is a breaking change of the model contract. */
export const FEATURE_NAMES = [
  'value',
  'rolling_mean',
  'rolling_std',
  'z_score',
  'rate_of_change',
  'ewma_fast',
  'ewma_slow',
  'ewma_gap',
  'rolling_min',
  'rolling_max',
  'position_in_range',
  'time_since_change',
  'level_shift',
  'volatility_ratio',
  'step_z',
  'equipment_deviation',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;
/** Index of each feature in a row, computed once (STYLE.md §7). */
export const FEATURE_INDEX: Readonly<Record<FeatureName, number>> = Object.fromEntries(
  FEATURE_NAMES.map((n, i) => [n, i]),
) as Record<FeatureName, number>;

export interface FeatureOptions {
  /** Rolling window length, ms (config `features.windowMs`, default 24 h). */
  readonly windowMs: number;
  /** Buckets per window (config `features.bucketCount`, default 96). */
  readonly bucketCount: number;
  /** EWMA spans in samples (cadence-independent: 1 s and 1 min data behave alike). */
  readonly fastSpan?: number;
  readonly slowSpan?: number;
  /** Relative noise floor for the standard deviation: std_eff² = var + (floor × |mean|)² + 1e-12. */
  readonly relStdFloor?: number;
}

// Scalar slots per sensor (before its buckets).
const S_OFFSET = 0;
const S_LAST_VALUE = 1;
const S_LAST_TS = 2;
const S_CHANGE_TS = 3;
const S_EW_FAST = 4;
const S_EW_SLOW = 5;
const S_EW_VAR = 6;
const S_SEEN = 7;
const S_W_COUNT = 8;
const S_W_SUM = 9;
const S_W_SUMSQ = 10;
const S_W_MIN = 11;
const S_W_MAX = 12;
const S_HEAD = 13;
const S_LEVEL = 14;
const S_EQUIP = 15;
const S_W_ESUM = 16;
const S_W_ESUMSQ = 17;
const SCALARS = 18;
const B_FIELDS = 7; // count, sum, sumsq, min, max, sum and sumsq of the fast EWMA
const PAGE_SENSORS = 1024;
/** Snapshot format (see `snapshot`): magic + version; bump the version on any layout change. */
const SNAPSHOT_MAGIC = 'AIFE';
export const FEATURE_SNAPSHOT_VERSION = 1;
/** What a reader of `snapshot()` bytes needs beyond the documented layout (domain/snapshot-delta.ts). */
export const FEATURE_SNAPSHOT_LAYOUT = {
  magic: SNAPSHOT_MAGIC,
  scalars: SCALARS,
  bucketFields: B_FIELDS,
} as const;

/**
 * Streaming feature engine. One instance holds every tracked sensor.
 * `update` writes the FEATURE_COUNT features of one reading into `out` at `offset`.
 */
export class FeatureEngine {
  readonly #windowMs: number;
  readonly #buckets: number;
  readonly #bucketMs: number;
  readonly #stride: number;
  readonly #aFast: number;
  readonly #aSlow: number;
  readonly #relFloor: number;
  readonly #pages: Float64Array[] = [];
  readonly #slots = new Map<string, number>();
  readonly #equipSlots = new Map<string, number>();
  /** Per equipment: sum of the latest level_shift² of its sensors, and how many sensors reported. */
  #equipSumSq: Float64Array = new Float64Array(64);
  #equipN: Float64Array = new Float64Array(64);

  constructor(options: FeatureOptions) {
    if (!Number.isInteger(options.windowMs) || options.windowMs <= 0) {
      throw new RangeError(`windowMs must be a positive integer, got '${options.windowMs}'`);
    }
    if (!Number.isInteger(options.bucketCount) || options.bucketCount < 2) {
      throw new RangeError(`bucketCount must be an integer >= 2, got '${options.bucketCount}'`);
    }
    this.#windowMs = options.windowMs;
    this.#buckets = options.bucketCount;
    this.#bucketMs = options.windowMs / options.bucketCount;
    this.#stride = SCALARS + B_FIELDS * options.bucketCount;
    this.#aFast = 2 / ((options.fastSpan ?? 10) + 1);
    this.#aSlow = 2 / ((options.slowSpan ?? 120) + 1);
    this.#relFloor = options.relStdFloor ?? 1e-3;
  }

  /** Number of tracked sensors. */
  get sensorCount(): number {
    return this.#slots.size;
  }

  /** Bytes of typed-array state held (what `bytes_per_sensor` divides). */
  get stateBytes(): number {
    return (
      this.#pages.length * PAGE_SENSORS * this.#stride * 8 +
      (this.#equipSumSq.byteLength + this.#equipN.byteLength)
    );
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  /**
   * Computes the features of `reading` against the window as it was before the reading, writes
   * them to `out[offset .. offset + FEATURE_COUNT)`, then adds the reading to the window when
   * `learn` is true. The detector passes `learn = false` while the equipment is in alarm, so an
   * ongoing fault does not become the reference it is measured against.
   */
  update(reading: SensorReading, out: Float32Array | Float64Array, offset: number, learn = true): void {
    const { page, base } = this.#locate(reading);
    const t = reading.sourceTimestampMs;
    const x = reading.value;
    if (page[base + S_SEEN] === 0) this.#init(page, base, x, t);
    this.#advance(page, base, t);

    const off = page[base + S_OFFSET] as number;
    const n = page[base + S_W_COUNT] as number;
    const d = x - off;
    const meanRel = n > 0 ? (page[base + S_W_SUM] as number) / n : d;
    const mean = meanRel + off;
    const varRaw = n > 1 ? Math.max(0, (page[base + S_W_SUMSQ] as number) / n - meanRel * meanRel) : 0;
    const floor = this.#relFloor * Math.abs(mean);
    const stdEff = Math.sqrt(varRaw + floor * floor + 1e-12);
    const lastV = page[base + S_LAST_VALUE] as number;
    const lastT = page[base + S_LAST_TS] as number;
    const dtS = Math.max((t - lastT) / 1000, 1e-3);
    if (x !== lastV) page[base + S_CHANGE_TS] = t;

    const fast0 = page[base + S_EW_FAST] as number;
    const fast = fast0 + this.#aFast * (x - fast0);
    const slow = (page[base + S_EW_SLOW] as number) + this.#aSlow * (x - (page[base + S_EW_SLOW] as number));
    const ewVar =
      (1 - this.#aFast) * ((page[base + S_EW_VAR] as number) + this.#aFast * (x - fast0) * (x - fast0));
    const min = n > 0 ? Math.min(page[base + S_W_MIN] as number, x) : x;
    const max = n > 0 ? Math.max(page[base + S_W_MAX] as number, x) : x;
    const eMeanRel = n > 0 ? (page[base + S_W_ESUM] as number) / n : fast - off;
    const eVar = n > 1 ? Math.max(0, (page[base + S_W_ESUMSQ] as number) / n - eMeanRel * eMeanRel) : 0;
    const level = (fast - off - eMeanRel) / Math.sqrt(eVar + floor * floor + 1e-12);

    out[offset] = x;
    out[offset + 1] = mean;
    out[offset + 2] = Math.sqrt(varRaw);
    out[offset + 3] = (x - mean) / stdEff;
    out[offset + 4] = page[base + S_SEEN] === 1 ? 0 : (x - lastV) / dtS;
    out[offset + 5] = fast;
    out[offset + 6] = slow;
    out[offset + 7] = (fast - slow) / stdEff;
    out[offset + 8] = min;
    out[offset + 9] = max;
    out[offset + 10] = max > min ? (x - min) / (max - min) : 0.5;
    out[offset + 11] = (t - (page[base + S_CHANGE_TS] as number)) / 1000;
    out[offset + 12] = level;
    out[offset + 13] = Math.sqrt(ewVar) / stdEff;
    out[offset + 14] = page[base + S_SEEN] === 1 ? 0 : (x - lastV) / stdEff;
    out[offset + 15] = this.#equipmentDeviation(page, base, level);

    page[base + S_EW_FAST] = fast;
    page[base + S_EW_SLOW] = slow;
    page[base + S_EW_VAR] = ewVar;
    page[base + S_LAST_VALUE] = x;
    page[base + S_LAST_TS] = Math.max(t, lastT);
    page[base + S_SEEN] = (page[base + S_SEEN] as number) + 1;
    if (learn) this.#add(page, base, t, d, x, fast - off);
  }

  /** Forgets every sensor (used when a model with another window is swapped in). */
  clear(): void {
    this.#slots.clear();
    this.#equipSlots.clear();
    this.#pages.length = 0;
    this.#equipSumSq.fill(0);
    this.#equipN.fill(0);
  }

  /**
   * The whole state as bytes (format FEATURE_SNAPSHOT_VERSION, little-endian):
   * header `AIFE` u16 version; options windowMs f64, bucketCount u32, EWMA alphas f64 ×2,
   * relStdFloor f64; equipment u32 count × (id str, level-shift sum f64, sensor count f64);
   * sensors u32 count × (tagPath str, SCALARS f64, live-bucket bitmap ⌈bucketCount/8⌉ bytes,
   * 7 f64 per live bucket). Buckets with no reading are left out (a restored empty bucket is zero,
   * as it was for every field that is read). Size per sensor ≤ tag + 156 + 56 × bucketCount bytes.
   * `restore` of these bytes into an engine with the same options continues bit-identically.
   */
  snapshot(): Uint8Array {
    const w = new StateWriter();
    writeHeader(w, SNAPSHOT_MAGIC, FEATURE_SNAPSHOT_VERSION);
    w.f64(this.#windowMs);
    w.u32(this.#buckets);
    w.f64(this.#aFast);
    w.f64(this.#aSlow);
    w.f64(this.#relFloor);
    w.u32(this.#equipSlots.size);
    for (const [id, e] of this.#equipSlots) {
      w.str(id);
      w.f64(this.#equipSumSq[e] as number);
      w.f64(this.#equipN[e] as number);
    }
    const bitmapBytes = Math.ceil(this.#buckets / 8);
    w.u32(this.#slots.size);
    for (const [tag, slot] of this.#slots) {
      const page = this.#pages[Math.floor(slot / PAGE_SENSORS)] as Float64Array;
      const base = (slot % PAGE_SENSORS) * this.#stride;
      w.str(tag);
      w.f64s(page, base, SCALARS);
      for (let byte = 0; byte < bitmapBytes; byte++) {
        let bits = 0;
        for (let k = 0; k < 8 && byte * 8 + k < this.#buckets; k++) {
          if ((page[base + SCALARS + (byte * 8 + k) * B_FIELDS] as number) !== 0) bits |= 1 << k;
        }
        w.u8(bits);
      }
      for (let i = 0; i < this.#buckets; i++) {
        const b = base + SCALARS + i * B_FIELDS;
        if ((page[b] as number) !== 0) w.f64s(page, b, B_FIELDS);
      }
    }
    return w.finish();
  }

  /**
   * Replaces the whole state with a `snapshot()`. Throws StateFormatError naming the problem
   * (wrong magic or version, truncated, taken with other options, inconsistent content); the
   * engine is then left empty, never half-restored.
   */
  restore(bytes: Uint8Array): void {
    this.clear();
    try {
      this.#restore(new StateReader(bytes, 'feature-engine snapshot'));
    } catch (err) {
      this.clear();
      throw err;
    }
  }

  #restore(r: StateReader): void {
    r.header(SNAPSHOT_MAGIC, FEATURE_SNAPSHOT_VERSION);
    const opts: [string, number, number][] = [
      ['windowMs', r.f64('windowMs'), this.#windowMs],
      ['bucketCount', r.u32('bucketCount'), this.#buckets],
      ['fast EWMA alpha', r.f64('fast EWMA alpha'), this.#aFast],
      ['slow EWMA alpha', r.f64('slow EWMA alpha'), this.#aSlow],
      ['relStdFloor', r.f64('relStdFloor'), this.#relFloor],
    ];
    for (const [name, got, mine] of opts) {
      if (got !== mine)
        r.fail(`taken with ${name} ${got}, this engine has ${mine}: the windows are not comparable`);
    }
    const equipCount = r.u32('equipment count');
    for (let e = 0; e < equipCount; e++) {
      const id = r.str(`equipment ${e} id`);
      if (this.#equipSlots.has(id)) r.fail(`equipment '${id}' appears twice`);
      const slot = this.#equipSlot(id);
      this.#equipSumSq[slot] = r.f64(`equipment '${id}' level sum`);
      this.#equipN[slot] = r.f64(`equipment '${id}' sensor count`);
    }
    const sensorCount = r.u32('sensor count');
    const bitmapBytes = Math.ceil(this.#buckets / 8);
    for (let s = 0; s < sensorCount; s++) {
      const tag = r.str(`sensor ${s} tagPath`);
      if (this.#slots.has(tag)) r.fail(`sensor '${tag}' appears twice`);
      const slot = this.#slots.size;
      this.#slots.set(tag, slot);
      if (Math.floor(slot / PAGE_SENSORS) >= this.#pages.length)
        this.#pages.push(new Float64Array(PAGE_SENSORS * this.#stride));
      const page = this.#pages[Math.floor(slot / PAGE_SENSORS)] as Float64Array;
      const base = (slot % PAGE_SENSORS) * this.#stride;
      r.f64s(page, base, SCALARS, `sensor '${tag}' scalars`);
      const equip = page[base + S_EQUIP] as number;
      if (!Number.isInteger(equip) || equip < 0 || equip >= equipCount)
        r.fail(`sensor '${tag}' names equipment slot ${equip} of ${equipCount}`);
      const bitmap: number[] = [];
      for (let byte = 0; byte < bitmapBytes; byte++) bitmap.push(r.u8(`sensor '${tag}' bucket bitmap`));
      for (let i = 0; i < this.#buckets; i++) {
        if (((bitmap[i >> 3] as number) & (1 << (i & 7))) === 0) continue;
        const b = base + SCALARS + i * B_FIELDS;
        r.f64s(page, b, B_FIELDS, `sensor '${tag}' bucket ${i}`);
        if (!((page[b] as number) > 0))
          r.fail(`sensor '${tag}' bucket ${i} is marked live but holds count ${page[b]}`);
      }
    }
    r.end();
  }

  #locate(reading: SensorReading): { page: Float64Array; base: number } {
    let slot = this.#slots.get(reading.tag.tagPath);
    if (slot === undefined) {
      slot = this.#slots.size;
      this.#slots.set(reading.tag.tagPath, slot);
      const pageIdx = Math.floor(slot / PAGE_SENSORS);
      if (pageIdx >= this.#pages.length) this.#pages.push(new Float64Array(PAGE_SENSORS * this.#stride));
      const page = this.#pages[pageIdx] as Float64Array;
      page[(slot % PAGE_SENSORS) * this.#stride + S_EQUIP] = this.#equipSlot(reading.tag.equipmentId);
    }
    return {
      page: this.#pages[Math.floor(slot / PAGE_SENSORS)] as Float64Array,
      base: (slot % PAGE_SENSORS) * this.#stride,
    };
  }

  #equipSlot(equipmentId: string): number {
    let e = this.#equipSlots.get(equipmentId);
    if (e === undefined) {
      e = this.#equipSlots.size;
      this.#equipSlots.set(equipmentId, e);
      if (e >= this.#equipSumSq.length) {
        const grow = (a: Float64Array): Float64Array => {
          const b = new Float64Array(a.length * 2);
          b.set(a);
          return b;
        };
        this.#equipSumSq = grow(this.#equipSumSq);
        this.#equipN = grow(this.#equipN);
      }
    }
    return e;
  }

  #init(page: Float64Array, base: number, x: number, t: number): void {
    page[base + S_OFFSET] = x;
    page[base + S_LAST_VALUE] = x;
    page[base + S_LAST_TS] = t;
    page[base + S_CHANGE_TS] = t;
    page[base + S_EW_FAST] = x;
    page[base + S_EW_SLOW] = x;
    page[base + S_HEAD] = Math.floor(t / this.#bucketMs);
    page[base + S_SEEN] = 1;
    const e = page[base + S_EQUIP] as number;
    this.#equipN[e] = (this.#equipN[e] as number) + 1;
  }

  /** RMS of the latest level_shift over the equipment's sensors: one number for "the machine moved". */
  #equipmentDeviation(page: Float64Array, base: number, level: number): number {
    const e = page[base + S_EQUIP] as number;
    const old = page[base + S_LEVEL] as number;
    const clipped = Math.min(Math.abs(level), 1e3);
    this.#equipSumSq[e] = Math.max(0, (this.#equipSumSq[e] as number) + clipped * clipped - old * old);
    page[base + S_LEVEL] = clipped;
    return Math.sqrt((this.#equipSumSq[e] as number) / Math.max(1, this.#equipN[e] as number));
  }

  /** Moves the head bucket forward to `t`, expiring buckets that left the window. */
  #advance(page: Float64Array, base: number, t: number): void {
    const id = Math.floor(t / this.#bucketMs);
    const head = page[base + S_HEAD] as number;
    if (id <= head) return;
    const steps = Math.min(id - head, this.#buckets);
    let expired = false;
    for (let k = 1; k <= steps; k++) {
      const b = base + SCALARS + ((head + k) % this.#buckets) * B_FIELDS;
      if ((page[b] as number) > 0) {
        page[base + S_W_COUNT] = (page[base + S_W_COUNT] as number) - (page[b] as number);
        page[base + S_W_SUM] = (page[base + S_W_SUM] as number) - (page[b + 1] as number);
        page[base + S_W_SUMSQ] = (page[base + S_W_SUMSQ] as number) - (page[b + 2] as number);
        page[base + S_W_ESUM] = (page[base + S_W_ESUM] as number) - (page[b + 5] as number);
        page[base + S_W_ESUMSQ] = (page[base + S_W_ESUMSQ] as number) - (page[b + 6] as number);
        expired = true;
      }
      page[b] = 0;
      page[b + 1] = 0;
      page[b + 2] = 0;
      page[b + 5] = 0;
      page[b + 6] = 0;
    }
    page[base + S_HEAD] = id;
    if (expired) this.#recomputeExtremes(page, base);
  }

  #recomputeExtremes(page: Float64Array, base: number): void {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < this.#buckets; i++) {
      const b = base + SCALARS + i * B_FIELDS;
      if ((page[b] as number) > 0) {
        min = Math.min(min, page[b + 3] as number);
        max = Math.max(max, page[b + 4] as number);
      }
    }
    if ((page[base + S_W_COUNT] as number) <= 0) {
      // Floating residue after expiring every bucket: reset the totals exactly.
      page[base + S_W_COUNT] = 0;
      page[base + S_W_SUM] = 0;
      page[base + S_W_SUMSQ] = 0;
      page[base + S_W_ESUM] = 0;
      page[base + S_W_ESUMSQ] = 0;
    }
    page[base + S_W_MIN] = min;
    page[base + S_W_MAX] = max;
  }

  #add(page: Float64Array, base: number, t: number, d: number, x: number, e: number): void {
    const head = page[base + S_HEAD] as number;
    let id = Math.floor(t / this.#bucketMs);
    // A late reading still inside the window goes to its own bucket; an older one counts as now.
    if (id > head || head - id >= this.#buckets) id = head;
    const b = base + SCALARS + (id % this.#buckets) * B_FIELDS;
    const first = (page[b] as number) === 0;
    page[b] = (page[b] as number) + 1;
    page[b + 1] = (page[b + 1] as number) + d;
    page[b + 2] = (page[b + 2] as number) + d * d;
    page[b + 3] = first ? x : Math.min(page[b + 3] as number, x);
    page[b + 4] = first ? x : Math.max(page[b + 4] as number, x);
    page[b + 5] = (page[b + 5] as number) + e;
    page[b + 6] = (page[b + 6] as number) + e * e;
    page[base + S_W_ESUM] = (page[base + S_W_ESUM] as number) + e;
    page[base + S_W_ESUMSQ] = (page[base + S_W_ESUMSQ] as number) + e * e;
    const wasEmpty = (page[base + S_W_COUNT] as number) === 0;
    page[base + S_W_COUNT] = (page[base + S_W_COUNT] as number) + 1;
    page[base + S_W_SUM] = (page[base + S_W_SUM] as number) + d;
    page[base + S_W_SUMSQ] = (page[base + S_W_SUMSQ] as number) + d * d;
    page[base + S_W_MIN] = wasEmpty ? x : Math.min(page[base + S_W_MIN] as number, x);
    page[base + S_W_MAX] = wasEmpty ? x : Math.max(page[base + S_W_MAX] as number, x);
  }
}
