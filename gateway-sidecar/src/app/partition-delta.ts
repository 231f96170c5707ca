/**
 * Incremental partition checkpoints (docs/scale-out.md): the difference between the partition
 * state (partition-state.ts, `AIPC`) at the previous checkpoint and at this one, and the state
 * rebuilt from the previous one plus that difference, byte-identical to the full snapshot it
 * stands for. The detector part (app/detector.ts, `AIDT` v1: feature windows + alarm gates) is
 * diffed record by record (domain/snapshot-delta.ts); a detector snapshot in another format is
 * carried whole when it changed, as are the critical latches and the aggregate-only state.
 *
 * Format `AIPD` version 1 (little-endian): header; u32 CRC-32 of everything after it; f64 sequence
 * of the state it applies to; f64 sequence it brings the state to; u32 byte length of the state it
 * applies to; u32 byte length of the result; partition-state header (6 bytes); validator order list
 * difference; latches (unchanged flag or whole); detector (u8 0 + unchanged flag or whole, or u8 1
 * + feature-engine difference + alarm-gate difference); aggregate-only state (unchanged or whole).
 * Applying checks the CRC, the sequence it applies to, both lengths and every count, and throws
 * StateFormatError naming the problem: a delta never half-applies (the result is new bytes).
 */
import {
  readEngineDiff,
  readGateDiff,
  readListDiff,
  readRawDiff,
  writeEngineDiff,
  writeGateDiff,
  writeList,
  writeListDiff,
  writeRawDiff,
  type KeyedRecord,
} from '../domain/snapshot-delta.ts';
import { crc32, StateReader, StateWriter, writeHeader } from '../domain/state-codec.ts';
import { readPartitionHeader } from './partition-state.ts';

export const PARTITION_DELTA_VERSION = 1;
const MAGIC = 'AIPD';
const STATE_HEAD = 6;

interface PartitionImage {
  readonly head: Uint8Array;
  readonly order: readonly KeyedRecord[];
  readonly latched: Uint8Array;
  readonly detector: Uint8Array;
  readonly aggregates: Uint8Array;
}

function parsePartition(bytes: Uint8Array): PartitionImage {
  const r = new StateReader(bytes, 'partition snapshot');
  readPartitionHeader(r, bytes);
  const order: KeyedRecord[] = [];
  const n = r.u32('order count');
  for (let i = 0; i < n; i++) order.push({ key: r.bytes(`order ${i} tag`), body: r.raw(8, `order ${i} timestamp`) });
  const latchStart = r.offset;
  const m = r.u32('latch count');
  for (let i = 0; i < m; i++) r.bytes(`latch ${i} tag`);
  const latched = bytes.subarray(latchStart, r.offset);
  const detector = r.bytes('detector state');
  const aggregates = r.bytes('aggregate-only state');
  r.end();
  return { head: bytes.subarray(0, STATE_HEAD), order, latched, detector, aggregates };
}

/** The detector's `AIDT` v1 parts, or undefined when the bytes are in another format. */
function detectorParts(bytes: Uint8Array): { engine: Uint8Array; gate: Uint8Array } | undefined {
  try {
    const r = new StateReader(bytes, 'detector snapshot');
    r.header('AIDT', 1);
    const engine = r.bytes('feature windows');
    const gate = r.bytes('alarm gates');
    r.end();
    return { engine, gate };
  } catch {
    // Another detector format: it is carried whole (writeRawDiff), never guessed at.
    return undefined;
  }
}

/**
 * The delta that turns `before` (the full state at `beforeSeq`) into `after` (at `afterSeq`).
 * Throws StateFormatError when either is not a partition snapshot (the caller then saves a full one).
 */
export function diffPartitionState(before: Uint8Array, beforeSeq: number, after: Uint8Array, afterSeq: number): Uint8Array {
  const a = parsePartition(after);
  const b = parsePartition(before);
  const w = new StateWriter();
  w.f64(beforeSeq);
  w.f64(afterSeq);
  w.u32(before.length);
  w.u32(after.length);
  w.raw(a.head);
  writeListDiff(w, b.order, a.order);
  writeRawDiff(w, b.latched, a.latched);
  const da = detectorParts(a.detector);
  const db = detectorParts(b.detector);
  if (da === undefined || db === undefined) {
    w.u8(0);
    writeRawDiff(w, b.detector, a.detector);
  } else {
    w.u8(1);
    writeEngineDiff(w, db.engine, da.engine);
    writeGateDiff(w, db.gate, da.gate);
  }
  writeRawDiff(w, b.aggregates, a.aggregates);
  const body = w.finish();
  const out = new StateWriter();
  writeHeader(out, MAGIC, PARTITION_DELTA_VERSION);
  out.u32(crc32(body));
  out.raw(body);
  return out.finish();
}

/** Whether `bytes` parse as a partition snapshot this build can apply deltas to. */
export function isPartitionSnapshot(bytes: Uint8Array): boolean {
  try {
    parsePartition(bytes);
    return true;
  } catch {
    // Not parseable: the caller restores it whole, which reports the exact problem.
    return false;
  }
}

/**
 * The full state `delta` leads to from `before`, the state at `beforeSeq`. Throws StateFormatError
 * naming the problem (checksum, wrong base, truncated, inconsistent).
 */
export function applyPartitionDelta(before: Uint8Array, beforeSeq: number, delta: Uint8Array): Uint8Array {
  const r = new StateReader(delta, 'partition delta');
  r.header(MAGIC, PARTITION_DELTA_VERSION);
  const sum = r.u32('checksum');
  const body = delta.subarray(r.offset);
  if (crc32(body) !== sum) r.fail(`checksum mismatch (stored ${sum.toString(16)}, computed ${crc32(body).toString(16)}): the delta is corrupt`);
  const from = r.f64('base sequence');
  const to = r.f64('sequence');
  if (from !== beforeSeq) r.fail(`applies to the state at sequence ${from}, not to the one at ${beforeSeq}`);
  if (!(to >= from)) r.fail(`leads back from sequence ${from} to ${to}`);
  const beforeLength = r.u32('base length');
  const resultLength = r.u32('result length');
  if (beforeLength !== before.length) r.fail(`applies to a ${beforeLength}-byte state, this one has ${before.length} bytes`);
  const b = parsePartition(before);
  const head = r.raw(STATE_HEAD, 'partition header');
  const order = readListDiff(r, b.order, 'order', undefined, 8);
  const latched = readRawDiff(r, b.latched, 'latches');
  const mode = r.u8('detector delta mode');
  let detector: Uint8Array;
  if (mode === 0) detector = readRawDiff(r, b.detector, 'detector state');
  else if (mode === 1) {
    const db = detectorParts(b.detector);
    if (db === undefined) return r.fail('holds a feature-window difference but the state it applies to has no AIDT v1 detector snapshot');
    const engine = readEngineDiff(r, db.engine);
    const gate = readGateDiff(r, db.gate);
    const dw = new StateWriter();
    writeHeader(dw, 'AIDT', 1);
    dw.bytes(engine);
    dw.bytes(gate);
    detector = dw.finish();
  } else return r.fail(`detector delta mode ${mode} is unknown`);
  const aggregates = readRawDiff(r, b.aggregates, 'aggregate-only state');
  r.end();
  const w = new StateWriter();
  w.raw(head);
  writeList(w, order);
  w.raw(latched);
  w.bytes(detector);
  w.bytes(aggregates);
  const out = w.finish();
  if (out.length !== resultLength) r.fail(`rebuilt ${out.length} bytes, the delta was taken of ${resultLength}`);
  return out;
}
