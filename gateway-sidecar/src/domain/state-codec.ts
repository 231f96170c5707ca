/**
 * A small binary writer/reader for state snapshots (feature windows, alarm gates, partition state;
 * docs/scale-out.md). Little-endian; numbers as float64 so a restored state is bit-identical;
 * strings as u32 byte length + UTF-8. The reader checks every length against the buffer and throws
 * StateFormatError naming what it was reading, so a truncated or foreign blob never half-loads.
 *
 * Pure: no I/O (STYLE.md §2).
 */

/** A snapshot that cannot be restored (wrong magic/version, truncated, inconsistent, other options). */
export class StateFormatError extends Error {
  override readonly name = 'StateFormatError';
}

const utf8 = new TextEncoder();
/** On little-endian hosts (all supported ones) float64 runs are copied as bytes: 10× faster. */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export class StateWriter {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #at = 0;

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#at));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.#room(1);
    this.#view.setUint8(this.#at, v);
    this.#at += 1;
  }
  u16(v: number): void {
    this.#room(2);
    this.#view.setUint16(this.#at, v, true);
    this.#at += 2;
  }
  u32(v: number): void {
    this.#room(4);
    this.#view.setUint32(this.#at, v, true);
    this.#at += 4;
  }
  f64(v: number): void {
    this.#room(8);
    this.#view.setFloat64(this.#at, v, true);
    this.#at += 8;
  }
  /** `count` float64 values of `src` from `from`. */
  f64s(src: Float64Array, from: number, count: number): void {
    this.#room(8 * count);
    if (LITTLE_ENDIAN)
      this.#buf.set(new Uint8Array(src.buffer, src.byteOffset + 8 * from, 8 * count), this.#at);
    else
      for (let i = 0; i < count; i++) this.#view.setFloat64(this.#at + 8 * i, src[from + i] as number, true);
    this.#at += 8 * count;
  }
  str(s: string): void {
    this.bytes(utf8.encode(s));
  }
  /** The bytes as they are (no length): the reader must know their length. */
  raw(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#at);
    this.#at += b.length;
  }
  /** u32 length + the bytes. */
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.#room(b.length);
    this.#buf.set(b, this.#at);
    this.#at += b.length;
  }
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#at);
  }
}

export class StateReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #at = 0;

  /** `what` names the snapshot in errors ("feature-engine snapshot"). */
  constructor(buf: Uint8Array, what: string) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#what = what;
  }

  fail(message: string): never {
    throw new StateFormatError(`${this.#what}: ${message}`);
  }

  #need(n: number, field: string): void {
    if (this.#at + n > this.#buf.length)
      this.fail(`truncated at byte ${this.#at} reading ${field} (${this.#buf.length} bytes in all)`);
  }

  u8(field: string): number {
    this.#need(1, field);
    const v = this.#view.getUint8(this.#at);
    this.#at += 1;
    return v;
  }
  u16(field: string): number {
    this.#need(2, field);
    const v = this.#view.getUint16(this.#at, true);
    this.#at += 2;
    return v;
  }
  u32(field: string): number {
    this.#need(4, field);
    const v = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return v;
  }
  f64(field: string): number {
    this.#need(8, field);
    const v = this.#view.getFloat64(this.#at, true);
    this.#at += 8;
    return v;
  }
  f64s(dst: Float64Array, from: number, count: number, field: string): void {
    this.#need(8 * count, field);
    if (LITTLE_ENDIAN)
      new Uint8Array(dst.buffer, dst.byteOffset + 8 * from, 8 * count).set(
        this.#buf.subarray(this.#at, this.#at + 8 * count),
      );
    else for (let i = 0; i < count; i++) dst[from + i] = this.#view.getFloat64(this.#at + 8 * i, true);
    this.#at += 8 * count;
  }
  /** Bytes read so far. */
  get offset(): number {
    return this.#at;
  }
  /** The next `n` bytes as a view (no copy). */
  raw(n: number, field: string): Uint8Array {
    this.#need(n, field);
    const b = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return b;
  }
  bytes(field: string): Uint8Array {
    const n = this.u32(`${field} length`);
    this.#need(n, field);
    const b = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return b;
  }
  str(field: string): string {
    const b = this.bytes(field);
    try {
      return fromUtf8.decode(b);
    } catch {
      return this.fail(`${field} is not valid UTF-8`);
    }
  }
  /** Checks the 4-byte magic and the format version. */
  header(magic: string, version: number): void {
    for (let i = 0; i < 4; i++) {
      if (this.u8('magic') !== magic.charCodeAt(i)) this.fail(`not a ${magic} snapshot (wrong magic bytes)`);
    }
    const v = this.u16('format version');
    if (v !== version)
      this.fail(`format version ${v} is not supported (this build reads version ${version})`);
  }
  /** Throws unless every byte was read (trailing garbage means a foreign or corrupt blob). */
  end(): void {
    if (this.#at !== this.#buf.length) this.fail(`${this.#buf.length - this.#at} unexpected trailing bytes`);
  }
}

export function writeHeader(w: StateWriter, magic: string, version: number): void {
  for (let i = 0; i < 4; i++) w.u8(magic.charCodeAt(i));
  w.u16(version);
}

/** Whether two byte runs are equal (compared 4 bytes at a time where both are aligned alike). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  let i = 0;
  if ((a.byteOffset & 3) === (b.byteOffset & 3)) {
    while (i < n && ((a.byteOffset + i) & 3) !== 0) {
      if (a[i] !== b[i]) return false;
      i++;
    }
    const words = (n - i) >> 2;
    if (words > 0) {
      const wa = new Uint32Array(a.buffer, a.byteOffset + i, words);
      const wb = new Uint32Array(b.buffer, b.byteOffset + i, words);
      for (let k = 0; k < words; k++) if (wa[k] !== wb[k]) return false;
      i += words * 4;
    }
  }
  for (; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib) of `b`: detects a flipped or lost byte in a stored delta. */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = (CRC_TABLE[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
