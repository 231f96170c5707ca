/**
 * Incremental checkpoints (docs/scale-out.md, "Partition state and checkpoints"): what changed
 * between two full snapshots of the same state, and the full snapshot rebuilt from the older one
 * plus that difference. Works on the snapshot bytes, not on live objects, so a rebuilt snapshot is
 * byte-identical to the one it stands for (tested), and `restore` of it continues bit-identically.
 *
 * A snapshot is read as lists of keyed records (sensors, equipment, alarm gates, validator order:
 * key = the id's UTF-8 bytes, body = the bytes after it). Those lists only grow in the same order
 * while a state lives (slots are appended, never reused), so a list's difference is: the new
 * length, the records whose body changed (by index) and the appended records. When the older list
 * is not a prefix of the newer one (the engine was cleared), the whole list is written instead.
 * A feature-engine sensor's changed body is written as its scalars, its live-bucket bitmap and only
 * the buckets whose bytes changed (normally the head bucket).
 *
 * Pure: no I/O (STYLE.md §2). Errors are StateFormatError naming the part that is bad.
 */
import { FEATURE_SNAPSHOT_LAYOUT, FEATURE_SNAPSHOT_VERSION } from './features.ts';
import { GATE_SNAPSHOT } from './scoring.ts';
import { sameBytes, StateReader, StateWriter } from './state-codec.ts';

/** One record of a keyed list: its id (UTF-8 bytes) and the bytes that follow it. */
export interface KeyedRecord {
  readonly key: Uint8Array;
  readonly body: Uint8Array;
}

/** Writes a changed body (default: the whole new body). */
export type BodyDiff = (w: StateWriter, before: Uint8Array, after: Uint8Array) => void;
/** Reads what BodyDiff wrote and returns the new body. */
export type BodyPatch = (r: StateReader, before: Uint8Array, what: string) => Uint8Array;

const LIST_WHOLE = 0;
const LIST_CHANGES = 1;

function isPrefix(before: readonly KeyedRecord[], after: readonly KeyedRecord[]): boolean {
  if (before.length > after.length) return false;
  for (let i = 0; i < before.length; i++)
    if (!sameBytes((before[i] as KeyedRecord).key, (after[i] as KeyedRecord).key)) return false;
  return true;
}

/** The difference of two keyed lists (see the file comment). */
export function writeListDiff(
  w: StateWriter,
  before: readonly KeyedRecord[],
  after: readonly KeyedRecord[],
  diff?: BodyDiff,
): void {
  if (!isPrefix(before, after)) {
    w.u8(LIST_WHOLE);
    w.u32(after.length);
    for (const rec of after) {
      w.bytes(rec.key);
      w.bytes(rec.body);
    }
    return;
  }
  w.u8(LIST_CHANGES);
  w.u32(after.length);
  const changed: number[] = [];
  for (let i = 0; i < before.length; i++)
    if (!sameBytes((before[i] as KeyedRecord).body, (after[i] as KeyedRecord).body)) changed.push(i);
  w.u32(changed.length);
  for (const i of changed) {
    w.u32(i);
    if (diff === undefined) w.bytes((after[i] as KeyedRecord).body);
    else diff(w, (before[i] as KeyedRecord).body, (after[i] as KeyedRecord).body);
  }
  for (let i = before.length; i < after.length; i++) {
    w.bytes((after[i] as KeyedRecord).key);
    w.bytes((after[i] as KeyedRecord).body);
  }
}

/** `before` with a `writeListDiff` applied; `bodyBytes` checks fixed-size bodies. */
export function readListDiff(
  r: StateReader,
  before: readonly KeyedRecord[],
  what: string,
  patch?: BodyPatch,
  bodyBytes?: number,
): KeyedRecord[] {
  const mode = r.u8(`${what} delta mode`);
  if (mode !== LIST_WHOLE && mode !== LIST_CHANGES) r.fail(`${what} delta mode ${mode} is unknown`);
  const count = r.u32(`${what} count`);
  const checked = (body: Uint8Array, i: number): Uint8Array => {
    if (bodyBytes !== undefined && body.length !== bodyBytes)
      r.fail(`${what} ${i} holds ${body.length} bytes, expected ${bodyBytes}`);
    return body;
  };
  if (mode === LIST_WHOLE) {
    const out: KeyedRecord[] = [];
    for (let i = 0; i < count; i++) {
      const key = r.bytes(`${what} ${i} key`);
      out.push({ key, body: checked(r.bytes(`${what} ${i}`), i) });
    }
    return out;
  }
  if (count < before.length)
    r.fail(`${what} count ${count} is below the ${before.length} of the state it applies to`);
  const out = before.slice();
  const changed = r.u32(`${what} changed count`);
  let last = -1;
  for (let k = 0; k < changed; k++) {
    const i = r.u32(`${what} changed index`);
    if (i <= last || i >= before.length)
      r.fail(
        `${what} changed index ${i} is out of order or beyond the ${before.length} of the state it applies to`,
      );
    last = i;
    const prev = before[i] as KeyedRecord;
    const body = patch === undefined ? r.bytes(`${what} ${i}`) : patch(r, prev.body, `${what} ${i}`);
    out[i] = { key: prev.key, body: checked(body, i) };
  }
  for (let i = before.length; i < count; i++) {
    const key = r.bytes(`${what} ${i} key`);
    out.push({ key, body: checked(r.bytes(`${what} ${i}`), i) });
  }
  return out;
}

export function writeList(w: StateWriter, list: readonly KeyedRecord[]): void {
  w.u32(list.length);
  for (const rec of list) {
    w.bytes(rec.key);
    w.raw(rec.body);
  }
}

/** A whole part that is either unchanged (u8 0) or replaced (u8 1 + bytes). */
export function writeRawDiff(w: StateWriter, before: Uint8Array, after: Uint8Array): void {
  if (sameBytes(before, after)) w.u8(0);
  else {
    w.u8(1);
    w.bytes(after);
  }
}

export function readRawDiff(r: StateReader, before: Uint8Array, what: string): Uint8Array {
  const flag = r.u8(`${what} changed flag`);
  if (flag === 0) return before;
  if (flag !== 1) r.fail(`${what} changed flag is ${flag}`);
  return r.bytes(what);
}

// ---- feature engine (FeatureEngine.snapshot layout, features.ts) --------------------------------

/** A parsed FeatureEngine snapshot: header + options bytes, equipment list, sensor list. */
export interface EngineImage {
  readonly head: Uint8Array;
  readonly buckets: number;
  readonly equipment: readonly KeyedRecord[];
  readonly sensors: readonly KeyedRecord[];
}

const SCALAR_BYTES = 8 * FEATURE_SNAPSHOT_LAYOUT.scalars;
const BUCKET_BYTES = 8 * FEATURE_SNAPSHOT_LAYOUT.bucketFields;

function popcount(bitmap: Uint8Array): number {
  let n = 0;
  for (const b of bitmap) for (let v = b; v !== 0; v &= v - 1) n++;
  return n;
}

export function parseEngineSnapshot(bytes: Uint8Array): EngineImage {
  const r = new StateReader(bytes, 'feature-engine snapshot');
  r.header(FEATURE_SNAPSHOT_LAYOUT.magic, FEATURE_SNAPSHOT_VERSION);
  r.f64('windowMs');
  const buckets = r.u32('bucketCount');
  r.raw(24, 'EWMA alphas and relStdFloor');
  const head = bytes.subarray(0, r.offset);
  const equipment: KeyedRecord[] = [];
  const eqCount = r.u32('equipment count');
  for (let e = 0; e < eqCount; e++)
    equipment.push({ key: r.bytes(`equipment ${e} id`), body: r.raw(16, `equipment ${e}`) });
  const nb = Math.ceil(buckets / 8);
  const sensors: KeyedRecord[] = [];
  const count = r.u32('sensor count');
  for (let s = 0; s < count; s++) {
    const key = r.bytes(`sensor ${s} tagPath`);
    const start = r.offset;
    r.raw(SCALAR_BYTES, `sensor ${s} scalars`);
    const live = popcount(r.raw(nb, `sensor ${s} bucket bitmap`));
    r.raw(live * BUCKET_BYTES, `sensor ${s} buckets`);
    sensors.push({ key, body: bytes.subarray(start, r.offset) });
  }
  r.end();
  return { head, buckets, equipment, sensors };
}

export function encodeEngineImage(img: EngineImage): Uint8Array {
  const w = new StateWriter();
  w.raw(img.head);
  writeList(w, img.equipment);
  writeList(w, img.sensors);
  return w.finish();
}

/** Whether a[ao, ao + n) equals b[bo, bo + n) (no views allocated: called per bucket). */
function sameRange(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[ao + k] !== b[bo + k]) return false;
  return true;
}

/** A sensor's changed body: scalars, new live-bucket bitmap, changed-bucket bitmap, changed buckets. */
function sensorDiff(nb: number, buckets: number): BodyDiff {
  const changedMap = new Uint8Array(nb);
  const at = new Int32Array(buckets);
  return (w, before, after) => {
    const mapAt = SCALAR_BYTES;
    changedMap.fill(0);
    let changed = 0;
    let offA = SCALAR_BYTES + nb;
    let offB = SCALAR_BYTES + nb;
    for (let i = 0; i < buckets; i++) {
      const bit = 1 << (i & 7);
      const liveA = ((after[mapAt + (i >> 3)] as number) & bit) !== 0;
      const liveB = ((before[mapAt + (i >> 3)] as number) & bit) !== 0;
      if (liveA && (!liveB || !sameRange(after, offA, before, offB, BUCKET_BYTES))) {
        changedMap[i >> 3] = (changedMap[i >> 3] as number) | bit;
        at[changed++] = offA;
      }
      if (liveA) offA += BUCKET_BYTES;
      if (liveB) offB += BUCKET_BYTES;
    }
    w.raw(after.subarray(0, SCALAR_BYTES + nb));
    w.raw(changedMap);
    for (let k = 0; k < changed; k++)
      w.raw(after.subarray(at[k] as number, (at[k] as number) + BUCKET_BYTES));
  };
}

function sensorPatch(nb: number, buckets: number): BodyPatch {
  return (r, before, what) => {
    const head = r.raw(SCALAR_BYTES + nb, `${what} scalars and bitmap`);
    const mapA = head.subarray(SCALAR_BYTES);
    const changed = r.raw(nb, `${what} changed-bucket bitmap`);
    const mapB = SCALAR_BYTES;
    const out = new Uint8Array(SCALAR_BYTES + nb + popcount(mapA) * BUCKET_BYTES);
    out.set(head, 0);
    // Unchanged buckets are copied in runs (normally one or two per sensor), not one by one.
    let runDst = 0;
    let runSrc = 0;
    let runLen = 0;
    const flush = (): void => {
      if (runLen > 0) out.set(before.subarray(runSrc, runSrc + runLen), runDst);
      runLen = 0;
    };
    let offA = SCALAR_BYTES + nb;
    let offB = SCALAR_BYTES + nb;
    for (let i = 0; i < buckets; i++) {
      const bit = 1 << (i & 7);
      const liveA = ((mapA[i >> 3] as number) & bit) !== 0;
      const liveB = ((before[mapB + (i >> 3)] as number) & bit) !== 0;
      const isChanged = ((changed[i >> 3] as number) & bit) !== 0;
      if (isChanged && !liveA) r.fail(`${what} bucket ${i} is marked changed but not live`);
      if (liveA) {
        if (isChanged) {
          flush();
          out.set(r.raw(BUCKET_BYTES, `${what} bucket ${i}`), offA);
        } else if (liveB) {
          if (runLen > 0 && runDst + runLen === offA && runSrc + runLen === offB) runLen += BUCKET_BYTES;
          else {
            flush();
            runDst = offA;
            runSrc = offB;
            runLen = BUCKET_BYTES;
          }
        } else r.fail(`${what} bucket ${i} is live but neither in the delta nor in the state it applies to`);
        offA += BUCKET_BYTES;
      }
      if (liveB) offB += BUCKET_BYTES;
    }
    flush();
    return out;
  };
}

/** Engine difference: u8 0 + whole snapshot (options changed), or u8 1 + equipment and sensor list differences. */
export function writeEngineDiff(w: StateWriter, before: Uint8Array, after: Uint8Array): void {
  const a = parseEngineSnapshot(after);
  const b = parseEngineSnapshot(before);
  if (!sameBytes(a.head, b.head)) {
    w.u8(0);
    w.bytes(after);
    return;
  }
  w.u8(1);
  writeListDiff(w, b.equipment, a.equipment);
  const nb = Math.ceil(a.buckets / 8);
  writeListDiff(w, b.sensors, a.sensors, sensorDiff(nb, a.buckets));
}

/** `img` with a `writeEngineDiff` applied (no bytes are encoded: chains apply many in a row). */
export function applyEngineDiff(r: StateReader, img: EngineImage): EngineImage {
  const mode = r.u8('feature-engine delta mode');
  if (mode === 0) return parseEngineSnapshot(r.bytes('feature-engine snapshot'));
  if (mode !== 1) r.fail(`feature-engine delta mode ${mode} is unknown`);
  const nb = Math.ceil(img.buckets / 8);
  const equipment = readListDiff(r, img.equipment, 'equipment', undefined, 16);
  const sensors = readListDiff(r, img.sensors, 'sensor', sensorPatch(nb, img.buckets));
  return { head: img.head, buckets: img.buckets, equipment, sensors };
}

export function readEngineDiff(r: StateReader, before: Uint8Array): Uint8Array {
  return encodeEngineImage(applyEngineDiff(r, parseEngineSnapshot(before)));
}

/** Encoded size of a keyed list (u32 count, then key with its u32 length and body per record). */
export function listBytes(list: readonly KeyedRecord[]): number {
  let n = 4;
  for (const rec of list) n += 4 + rec.key.length + rec.body.length;
  return n;
}

export function engineImageBytes(img: EngineImage): number {
  return img.head.length + listBytes(img.equipment) + listBytes(img.sensors);
}

// ---- alarm gates (AlarmGate.snapshot layout, scoring.ts) ---------------------------------------

/** A parsed AlarmGate snapshot: header and the gates. */
export interface GateImage {
  readonly head: Uint8Array;
  readonly gates: readonly KeyedRecord[];
}

export function parseGateSnapshot(bytes: Uint8Array): GateImage {
  const r = new StateReader(bytes, 'alarm-gate snapshot');
  r.header(GATE_SNAPSHOT.magic, GATE_SNAPSHOT.version);
  const gates: KeyedRecord[] = [];
  const n = r.u32('gate count');
  for (let i = 0; i < n; i++)
    gates.push({ key: r.bytes(`gate ${i} key`), body: r.raw(GATE_SNAPSHOT.gateBytes, `gate ${i}`) });
  r.end();
  return { head: bytes.subarray(0, 6), gates };
}

export function encodeGateImage(img: GateImage): Uint8Array {
  const w = new StateWriter();
  w.raw(img.head);
  writeList(w, img.gates);
  return w.finish();
}

export function gateImageBytes(img: GateImage): number {
  return img.head.length + listBytes(img.gates);
}

export function writeGateDiff(w: StateWriter, before: Uint8Array, after: Uint8Array): void {
  writeListDiff(w, parseGateSnapshot(before).gates, parseGateSnapshot(after).gates);
}

export function applyGateDiff(r: StateReader, img: GateImage): GateImage {
  return { head: img.head, gates: readListDiff(r, img.gates, 'gate', undefined, GATE_SNAPSHOT.gateBytes) };
}

export function readGateDiff(r: StateReader, before: Uint8Array): Uint8Array {
  return encodeGateImage(applyGateDiff(r, parseGateSnapshot(before)));
}
