/**
 * The state a scale-out partition carries from one owner to the next (docs/scale-out.md): the
 * detector's feature windows and alarm gates, the validator's last accepted timestamp per tag
 * (out-of-order checks) and the critical bypass latches. Checkpointed together with the stream
 * sequence it belongs to (PgPartitionCheckpoints), restored by the next owner.
 *
 * Format `AIPS` version 1: order u32 n × (tag str, ts f64); latches u32 n × tag str; detector bytes;
 * aggregate-only state bytes (open minutes and anomaly-context ends; empty in the rows write mode).
 */
import { StateReader, StateWriter, writeHeader } from '../domain/state-codec.ts';

export const PARTITION_STATE_VERSION = 1;

export interface PartitionState {
  readonly order: readonly (readonly [string, number])[];
  readonly latched: readonly string[];
  readonly detector: Uint8Array;
  /** AggregateOnlyState.snapshot(), or empty when the worker writes every row. */
  readonly aggregates: Uint8Array;
}

export function encodePartitionState(s: PartitionState): Uint8Array {
  const w = new StateWriter();
  writeHeader(w, 'AIPS', PARTITION_STATE_VERSION);
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
  r.header('AIPS', PARTITION_STATE_VERSION);
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
