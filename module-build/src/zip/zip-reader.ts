/**
 * Reads a zip through its central directory and checks every entry's CRC-32. Used by `verify`,
 * by signing (to re-sign an assembled module) and by the tests; it reads what any zip tool writes
 * (store or deflate, no zip64, no encryption).
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { ModuleBuildError } from '../build-error.ts';

export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
  readonly isDirectory: boolean;
  readonly method: number;
}

const fail = (why: string): ModuleBuildError =>
  new ModuleBuildError('MB_ERR_ZIP', `not a readable zip: ${why}`);

function findEndOfCentral(buf: Buffer): number {
  // The end record is 22 bytes plus a comment of at most 65535 bytes.
  const min = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= min; i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) return i;
  }
  throw fail('no end-of-central-directory record');
}

export function readZip(buf: Buffer): ZipEntry[] {
  if (buf.length < 22) throw fail(`${buf.length} bytes is too short`);
  const end = findEndOfCentral(buf);
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  const out: ZipEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50)
      throw fail(`central header ${i} is damaged`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString((flags & 0x0800) !== 0 ? 'utf8' : 'latin1');
    p += 46 + nameLen + extraLen + commentLen;
    if ((flags & 0x1) !== 0) throw fail(`'${name}' is encrypted`);
    if (seen.has(name)) throw fail(`'${name}' appears twice`);
    seen.add(name);
    if (buf.readUInt32LE(localOffset) !== 0x04034b50) throw fail(`local header of '${name}' is damaged`);
    const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const raw = buf.subarray(start, start + compSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw);
    else throw fail(`'${name}' uses compression method ${method}`);
    if (data.length !== size) throw fail(`'${name}' inflates to ${data.length} bytes, header says ${size}`);
    if (crc32(data) >>> 0 !== crc) throw fail(`'${name}' fails its CRC-32 check`);
    out.push({ name, data, isDirectory: name.endsWith('/'), method });
  }
  return out;
}
