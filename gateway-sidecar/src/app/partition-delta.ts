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
  applyEngineDiff,
  applyGateDiff,
  encodeEngineImage,
  encodeGateImage,
  engineImageBytes,
  gateImageBytes,
  listBytes,
  parseEngineSnapshot,
  parseGateSnapshot,
  readListDiff,
  readRawDiff,
  writeEngineDiff,
  writeGateDiff,
  writeList,
  writeListDiff,
  writeRawDiff,
  type EngineImage,
  type GateImage,
  type KeyedRecord,
} from '../domain/snapshot-delta.ts';
import { crc32, StateReader, StateWriter, writeHeader } from '../domain/state-codec.ts';
import { readPartitionHeader } from './partition-state.ts';

export const PARTITION_DELTA_VERSION = 1;
const MAGIC = 'AIPD';
const STATE_HEAD = 6;

interface ParsedPartition {
  readonly head: Uint8Array;
  readonly order: readonly KeyedRecord[];
  readonly latched: Uint8Array;
  readonly detector: Uint8Array;
  readonly aggregates: Uint8Array;
}

function parsePartition(bytes: Uint8Array): ParsedPartition {
  const r = new StateReader(bytes, 'partition snapshot');
  readPartitionHeader(r, bytes);
  const order: KeyedRecord[] = [];
  const n = r.u32('order count');
  for (let i = 0; i < n; i++)
    order.push({ key: r.bytes(`order ${i} tag`), body: r.raw(8, `order ${i} timestamp`) });
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
export function diffPartitionState(
  before: Uint8Array,
  beforeSeq: number,
  after: Uint8Array,
  afterSeq: number,
): Uint8Array {
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

/** A partition state held parsed while a chain of deltas is applied to it (encoded once at the end). */
export interface PartitionImage {
  readonly head: Uint8Array;
  readonly order: readonly KeyedRecord[];
  readonly latched: Uint8Array;
  readonly detector:
    { readonly raw: Uint8Array } | { readonly engine: EngineImage; readonly gate: GateImage };
  readonly aggregates: Uint8Array;
}

function detectorImage(bytes: Uint8Array): PartitionImage['detector'] {
  const parts = detectorParts(bytes);
  if (parts === undefined) return { raw: bytes };
  try {
    return { engine: parseEngineSnapshot(parts.engine), gate: parseGateSnapshot(parts.gate) };
  } catch {
    // Not parseable as windows + gates: kept whole; its restore will name the problem.
    return { raw: bytes };
  }
}

/** Parses a full partition state; throws StateFormatError when it is not one. */
export function toPartitionImage(bytes: Uint8Array): PartitionImage {
  const p = parsePartition(bytes);
  return {
    head: p.head,
    order: p.order,
    latched: p.latched,
    detector: detectorImage(p.detector),
    aggregates: p.aggregates,
  };
}

function detectorBytes(d: PartitionImage['detector']): number {
  return 'raw' in d ? d.raw.length : STATE_HEAD + 4 + engineImageBytes(d.engine) + 4 + gateImageBytes(d.gate);
}

function imageBytes(img: PartitionImage): number {
  return (
    img.head.length +
    listBytes(img.order) +
    img.latched.length +
    4 +
    detectorBytes(img.detector) +
    4 +
    img.aggregates.length
  );
}

export function encodePartitionImage(img: PartitionImage): Uint8Array {
  const w = new StateWriter();
  w.raw(img.head);
  writeList(w, img.order);
  w.raw(img.latched);
  const d = img.detector;
  if ('raw' in d) w.bytes(d.raw);
  else {
    const dw = new StateWriter();
    writeHeader(dw, 'AIDT', 1);
    dw.bytes(encodeEngineImage(d.engine));
    dw.bytes(encodeGateImage(d.gate));
    w.bytes(dw.finish());
  }
  w.bytes(img.aggregates);
  return w.finish();
}

/**
 * `img` (the state at `imgSeq`) with `delta` applied, and the sequence the delta leads to. Throws
 * StateFormatError naming the problem (checksum, wrong base, truncated, inconsistent); `img` is
 * never changed (a failed delta leaves the previous image usable).
 */
export function applyDeltaToImage(
  img: PartitionImage,
  imgSeq: number,
  delta: Uint8Array,
): { img: PartitionImage; seq: number } {
  const r = new StateReader(delta, 'partition delta');
  r.header(MAGIC, PARTITION_DELTA_VERSION);
  const sum = r.u32('checksum');
  const body = delta.subarray(r.offset);
  if (crc32(body) !== sum)
    r.fail(
      `checksum mismatch (stored ${sum.toString(16)}, computed ${crc32(body).toString(16)}): the delta is corrupt`,
    );
  const from = r.f64('base sequence');
  const to = r.f64('sequence');
  if (from !== imgSeq) r.fail(`applies to the state at sequence ${from}, not to the one at ${imgSeq}`);
  if (!(to >= from)) r.fail(`leads back from sequence ${from} to ${to}`);
  const beforeLength = r.u32('base length');
  const resultLength = r.u32('result length');
  const have = imageBytes(img);
  if (beforeLength !== have) r.fail(`applies to a ${beforeLength}-byte state, this one has ${have} bytes`);
  const head = r.raw(STATE_HEAD, 'partition header');
  const order = readListDiff(r, img.order, 'order', undefined, 8);
  const latched = readRawDiff(r, img.latched, 'latches');
  const mode = r.u8('detector delta mode');
  let detector: PartitionImage['detector'];
  if (mode === 0) {
    const flag = r.u8('detector state changed flag');
    if (flag === 0) detector = img.detector;
    else if (flag === 1) detector = detectorImage(r.bytes('detector state'));
    else return r.fail(`detector state changed flag is ${flag}`);
  } else if (mode === 1) {
    const d = img.detector;
    if ('raw' in d)
      return r.fail(
        'holds a feature-window difference but the state it applies to has no AIDT v1 detector snapshot',
      );
    detector = { engine: applyEngineDiff(r, d.engine), gate: applyGateDiff(r, d.gate) };
  } else return r.fail(`detector delta mode ${mode} is unknown`);
  const aggregates = readRawDiff(r, img.aggregates, 'aggregate-only state');
  r.end();
  const out: PartitionImage = { head, order, latched, detector, aggregates };
  const got = imageBytes(out);
  if (got !== resultLength) r.fail(`rebuilt ${got} bytes, the delta was taken of ${resultLength}`);
  return { img: out, seq: to };
}
