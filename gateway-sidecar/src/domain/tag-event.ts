/**
 * The one tag-event model every source produces, and its validation.
 *
 * A source turns whatever arrived (an OPC UA DataValue, a Sparkplug metric, a CSV row, a simulator
 * tick) into a TagEvent. `EventValidator.validate` then either accepts it as a typed reading for a
 * mapped tag or rejects it with one of REJECT_REASONS and a message naming the problem. Rejections
 * are counted per reason; nothing throws, so one bad event never costs the others.
 */
import type { EquipmentIndex, SensorTag, SetpointTag } from './equipment.ts';
import { canonicalMode, OPERATING_MODES, type OperatingMode } from './alarm-discipline.ts';

export type Quality = 'good' | 'uncertain' | 'bad';

export interface TagEvent {
  readonly tagPath: string;
  /** Raw value as the source delivered it; numeric tags must carry a finite number (or numeric string). */
  readonly value: unknown;
  readonly quality: Quality;
  /** When the value was measured (device / server time), epoch ms. */
  readonly sourceTimestampMs: number;
  /** When the sidecar received it, epoch ms. */
  readonly receivedTimestampMs: number;
}

export const REJECT_REASONS = [
  'malformed',
  'unknown_tag',
  'nan',
  'infinite',
  'non_numeric',
  'bad_quality',
  'future_timestamp',
  'out_of_order',
  'out_of_engineering_range',
  'unknown_mode',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface SensorReading {
  readonly kind: 'sensor';
  readonly tag: SensorTag & { readonly sensorIndex: number };
  readonly value: number;
  readonly quality: Quality;
  readonly sourceTimestampMs: number;
  readonly receivedTimestampMs: number;
}
export interface SetpointReading {
  readonly kind: 'setpoint';
  readonly tag: SetpointTag;
  readonly value: number;
  readonly sourceTimestampMs: number;
}
export interface ModeReading {
  readonly kind: 'mode';
  readonly equipmentId: string;
  readonly mode: string;
  readonly sourceTimestampMs: number;
}
export type AcceptedEvent = SensorReading | SetpointReading | ModeReading;

export type ValidationResult =
  | { readonly ok: true; readonly event: AcceptedEvent }
  | {
      readonly ok: false;
      readonly reason: RejectReason;
      readonly message: string;
      readonly tagPath: string | undefined;
    };

export interface ValidatorOptions {
  /** Reject source timestamps more than this far ahead of the received time. */
  readonly maxFutureSkewMs: number;
  /** Accept 'uncertain' quality (true) or reject it like 'bad' (false). */
  readonly acceptUncertain: boolean;
}

const DEFAULT_OPTIONS: ValidatorOptions = { maxFutureSkewMs: 5_000, acceptUncertain: true };

function reject(reason: RejectReason, message: string, tagPath?: string): ValidationResult {
  return { ok: false, reason, message, tagPath };
}

/** Parses a numeric value; returns the number or the reject reason. */
/** A mode tag's value as an operating mode: the equipment's modeValues first, then the mode's own name. */
export function operatingModeOf(
  raw: string,
  values: Readonly<Record<string, string>> | undefined,
): OperatingMode | undefined {
  const key = raw.trim().toUpperCase();
  if (values !== undefined)
    for (const [k, v] of Object.entries(values)) if (k.trim().toUpperCase() === key) return canonicalMode(v);
  return canonicalMode(raw);
}

export function parseNumericValue(raw: unknown): number | 'nan' | 'infinite' | 'non_numeric' {
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'boolean') n = raw ? 1 : 0;
  else if (typeof raw === 'bigint') n = Number(raw);
  else if (
    typeof raw === 'string' &&
    raw.trim() !== '' &&
    /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim())
  ) {
    n = Number(raw.trim());
  } else if (typeof raw === 'string' && /^\s*[+-]?(nan)\s*$/i.test(raw)) return 'nan';
  else if (typeof raw === 'string' && /^\s*[+-]?(inf|infinity)\s*$/i.test(raw)) return 'infinite';
  else return 'non_numeric';
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return 'infinite';
  return n;
}

/** Stateful validator: remembers each tag's last source timestamp to detect out-of-order events. */
export class EventValidator {
  readonly #index: EquipmentIndex;
  readonly #options: ValidatorOptions;
  readonly #lastTsByTag = new Map<string, number>();
  readonly #rejected: Record<RejectReason, number>;
  #accepted = 0;

  constructor(index: EquipmentIndex, options: Partial<ValidatorOptions> = {}) {
    this.#index = index;
    this.#options = { ...DEFAULT_OPTIONS, ...options };
    this.#rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  }

  /** Counts of rejected events per reason since start (a copy). */
  get rejectedCounts(): Readonly<Record<RejectReason, number>> {
    return { ...this.#rejected };
  }
  get acceptedCount(): number {
    return this.#accepted;
  }

  /** Each tag's last accepted source timestamp (scale-out partition snapshots). */
  orderState(): [string, number][] {
    return [...this.#lastTsByTag];
  }
  /** Restores `orderState()` so out-of-order checks continue where they were. */
  restoreOrderState(entries: readonly (readonly [string, number])[]): void {
    this.#lastTsByTag.clear();
    for (const [tag, ts] of entries) this.#lastTsByTag.set(tag, ts);
  }

  validate(event: TagEvent): ValidationResult {
    const result = this.#check(event);
    if (result.ok) this.#accepted++;
    else this.#rejected[result.reason]++;
    return result;
  }

  #check(ev: TagEvent): ValidationResult {
    if (ev === null || typeof ev !== 'object')
      return reject('malformed', `event must be an object, got ${typeof ev}`);
    const { tagPath, quality, sourceTimestampMs, receivedTimestampMs } = ev;
    if (typeof tagPath !== 'string' || tagPath.length === 0 || tagPath.length > 512) {
      return reject('malformed', `tagPath must be a non-empty string of at most 512 characters`);
    }
    if (quality !== 'good' && quality !== 'uncertain' && quality !== 'bad') {
      // Not String(quality): an object without a usable toString would make validate() throw.
      const got =
        typeof quality === 'string'
          ? `'${quality}'`
          : `a value of type ${quality === null ? 'null' : typeof quality}`;
      return reject('malformed', `quality must be good|uncertain|bad, got ${got}`, tagPath);
    }
    if (!Number.isFinite(sourceTimestampMs) || !Number.isFinite(receivedTimestampMs)) {
      return reject('malformed', `timestamps must be finite epoch milliseconds`, tagPath);
    }
    const sensor = this.#index.sensorsByTag.get(tagPath);
    const setpoint = sensor ? undefined : this.#index.setpointsByTag.get(tagPath);
    const modeEquipment = sensor || setpoint ? undefined : this.#index.modeTags.get(tagPath);
    if (!sensor && !setpoint && modeEquipment === undefined) {
      return reject('unknown_tag', `tag '${tagPath}' is not in the equipment map`, tagPath);
    }
    if (quality === 'bad' || (quality === 'uncertain' && !this.#options.acceptUncertain)) {
      return reject('bad_quality', `tag '${tagPath}' reported quality '${quality}'`, tagPath);
    }
    if (sourceTimestampMs - receivedTimestampMs > this.#options.maxFutureSkewMs) {
      const aheadMs = sourceTimestampMs - receivedTimestampMs;
      return reject(
        'future_timestamp',
        `tag '${tagPath}' source timestamp is ${aheadMs} ms in the future`,
        tagPath,
      );
    }
    const lastTs = this.#lastTsByTag.get(tagPath);
    if (lastTs !== undefined && sourceTimestampMs < lastTs) {
      return reject(
        'out_of_order',
        `tag '${tagPath}' timestamp ${sourceTimestampMs} is older than the last accepted ${lastTs}`,
        tagPath,
      );
    }
    if (modeEquipment !== undefined) {
      if (typeof ev.value !== 'string' && typeof ev.value !== 'number') {
        return reject('non_numeric', `mode tag '${tagPath}' must carry a string or number`, tagPath);
      }
      const raw = String(ev.value).trim();
      const mode = operatingModeOf(raw, this.#index.equipment.get(modeEquipment)?.modeValues);
      if (mode === undefined) {
        return reject(
          'unknown_mode',
          `mode tag '${tagPath}' value ${describe(raw)} is not an operating mode (${OPERATING_MODES.join(', ')}); map the plant's values with equipment '${modeEquipment}' modeValues`,
          tagPath,
        );
      }
      this.#lastTsByTag.set(tagPath, sourceTimestampMs);
      return { ok: true, event: { kind: 'mode', equipmentId: modeEquipment, mode, sourceTimestampMs } };
    }
    const parsed = parseNumericValue(ev.value);
    if (typeof parsed !== 'number') {
      return reject(parsed, `tag '${tagPath}' value ${describe(ev.value)} is not a finite number`, tagPath);
    }
    if (sensor) {
      const span = sensor.engHigh - sensor.engLow;
      // 10 % margin: instruments read slightly past their nominal range before saturating.
      if (parsed < sensor.engLow - 0.1 * span || parsed > sensor.engHigh + 0.1 * span) {
        return reject(
          'out_of_engineering_range',
          `tag '${tagPath}' value ${parsed} is outside the engineering range [${sensor.engLow}, ${sensor.engHigh}] ${sensor.unit}`,
          tagPath,
        );
      }
      this.#lastTsByTag.set(tagPath, sourceTimestampMs);
      return {
        ok: true,
        event: {
          kind: 'sensor',
          tag: sensor,
          value: parsed,
          quality,
          sourceTimestampMs,
          receivedTimestampMs,
        },
      };
    }
    this.#lastTsByTag.set(tagPath, sourceTimestampMs);
    return {
      ok: true,
      event: { kind: 'setpoint', tag: setpoint as SetpointTag, value: parsed, sourceTimestampMs },
    };
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (typeof v === 'number') return String(v);
  return `of type ${v === null ? 'null' : typeof v}`;
}
