/**
 * The state a scale-out partition carries from one owner to the next (docs/scale-out.md): the
 * detector's feature windows and alarm gates, the validator's last accepted timestamp per tag
 * (out-of-order checks) and the critical bypass latches. Checkpointed together with the stream
 * sequence it belongs to (PgPartitionCheckpoints), restored by the next owner.
 *
 * Format version 1: order u32 n × (tag str, ts f64); latches u32 n × tag str; detector bytes;
 * aggregate-only state bytes (open minutes and anomaly-context ends; empty in the rows write mode).
 * Magic `AIPC` since incremental checkpoints (migration 072): the same layout, but a state that may
 * head a delta chain. Builds before 072 read only `AIPS` and treat a checkpoint row as the full
 * state at its sequence; an `AIPC` row is refused by them (unusable snapshot: rebuilt from the
 * stream, exact) instead of being misread as the state at the chain's tip during a rolling upgrade
 * or a rollback. `AIPS` rows (written before 072) are still read.
 */
import { StateReader, StateWriter, writeHeader } from '../domain/state-codec.ts';

export const PARTITION_STATE_VERSION = 1;
/** Magic of the states this build writes. */
export const PARTITION_STATE_MAGIC = 'AIPC';
/** Magic of the states builds before incremental checkpoints wrote (still read). */
export const LEGACY_PARTITION_STATE_MAGIC = 'AIPS';

/** Reads the header of either magic; returns whether the state is a legacy (`AIPS`) one. */
export function readPartitionHeader(r: StateReader, bytes: Uint8Array): boolean {
  const legacy = isLegacyPartitionState(bytes);
  r.header(legacy ? LEGACY_PARTITION_STATE_MAGIC : PARTITION_STATE_MAGIC, PARTITION_STATE_VERSION);
  return legacy;
}

/** Whether `bytes` is a state written before incremental checkpoints (`AIPS`): never the head of a chain. */
export function isLegacyPartitionState(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    String.fromCharCode(bytes[0] as number, bytes[1] as number, bytes[2] as number, bytes[3] as number) ===
      LEGACY_PARTITION_STATE_MAGIC
  );
}

export interface PartitionState {
  readonly order: readonly (readonly [string, number])[];
  readonly latched: readonly string[];
  readonly detector: Uint8Array;
  /** AggregateOnlyState.snapshot(), or empty when the worker writes every row. */
  readonly aggregates: Uint8Array;
}

export function encodePartitionState(s: PartitionState): Uint8Array {
  const w = new StateWriter();
  writeHeader(w, PARTITION_STATE_MAGIC, PARTITION_STATE_VERSION);
  w.u32(s.order.length);
  for (const [tag, ts] of s.order) {
    w.str(tag);
    w.f64(ts);
  }
  w.u32(s.latched.length);
  for (const tag of s.latched) w.str(tag);
  w.bytes(s.detector);
  w.bytes(s.aggregates);
  return w.finish();
}

/** Throws StateFormatError naming the problem (the detector part is checked when it is restored). */
export function decodePartitionState(bytes: Uint8Array): PartitionState {
  const r = new StateReader(bytes, 'partition snapshot');
  readPartitionHeader(r, bytes);
  const order: [string, number][] = [];
  const n = r.u32('order count');
  for (let i = 0; i < n; i++) {
    const tag = r.str(`order ${i} tag`);
    const ts = r.f64(`order '${tag}' timestamp`);
    if (!Number.isFinite(ts)) r.fail(`order '${tag}' timestamp is ${ts}`);
    order.push([tag, ts]);
  }
  const latched: string[] = [];
  const m = r.u32('latch count');
  for (let i = 0; i < m; i++) latched.push(r.str(`latch ${i} tag`));
  const detector = r.bytes('detector state');
  const aggregates = r.bytes('aggregate-only state');
  r.end();
  return { order, latched, detector, aggregates };
}
