/**
 * A deterministic zip writer: the same entries give the same bytes. Entries are sorted by name
 * (byte order), every timestamp is the DOS epoch (1980-01-01 00:00), no extra fields, no
 * platform-specific attributes. Both `.modl` and `.jar` files are written with it.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { ModuleBuildError } from '../build-error.ts';

export interface ZipEntryInput {
  /** Forward-slash path inside the archive; a name ending in '/' is a directory entry. */
  readonly name: string;
  readonly data: Buffer;
}

const LOCAL_HEADER_SIG = 0x04034b50;
const CENTRAL_HEADER_SIG = 0x02014b50;
const END_OF_CENTRAL_SIG = 0x06054b50;
const VERSION = 20; // 2.0: deflate, no zip64
const FLAG_UTF8 = 0x0800;
const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;
// DOS date for 1980-01-01: (year-1980)<<9 | month<<5 | day; time 00:00:00 is 0.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const MAX_U32 = 0xffffffff;

function checkName(name: string): void {
  if (name.length === 0 || name.startsWith('/') || name.includes('\\') || name.split('/').includes('..')) {
    throw new ModuleBuildError(
      'MB_ERR_ZIP',
      `zip entry name '${name}' must be a relative forward-slash path without '..'`,
    );
  }
}

/** Sorts by UTF-8 bytes, so the order does not depend on the locale. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function writeZip(entries: readonly ZipEntryInput[]): Buffer {
  const sorted = [...entries].sort((a, b) => compareNames(a.name, b.name));
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i] as ZipEntryInput;
    checkName(e.name);
    if (i > 0 && (sorted[i - 1] as ZipEntryInput).name === e.name) {
      throw new ModuleBuildError('MB_ERR_ZIP', `zip entry '${e.name}' appears twice`);
    }
    if (e.name.endsWith('/') && e.data.length > 0) {
      throw new ModuleBuildError('MB_ERR_ZIP', `directory entry '${e.name}' must be empty`);
    }
  }
  if (sorted.length > 0xffff)
    throw new ModuleBuildError(
      'MB_ERR_ZIP',
      `${sorted.length} entries need zip64, which this writer does not do`,
    );

  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of sorted) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data) >>> 0;
    const deflated = e.data.length > 0 ? deflateRawSync(e.data, { level: 9 }) : Buffer.alloc(0);
    // Store when deflate does not help (tiny files, already-compressed images).
    const useDeflate = deflated.length < e.data.length;
    const body = useDeflate ? deflated : e.data;
    const method = useDeflate ? METHOD_DEFLATE : METHOD_STORE;
    if (e.data.length > MAX_U32 || offset > MAX_U32)
      throw new ModuleBuildError('MB_ERR_ZIP', `'${e.name}' needs zip64`);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER_SIG, 0);
    local.writeUInt16LE(VERSION, 4);
    local.writeUInt16LE(FLAG_UTF8, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    chunks.push(local, name, body);

    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(CENTRAL_HEADER_SIG, 0);
    cen.writeUInt16LE(VERSION, 4); // made by: MS-DOS host, so no Unix mode bits leak in
    cen.writeUInt16LE(VERSION, 6);
    cen.writeUInt16LE(FLAG_UTF8, 8);
    cen.writeUInt16LE(method, 10);
    cen.writeUInt16LE(DOS_TIME, 12);
    cen.writeUInt16LE(DOS_DATE, 14);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(body.length, 20);
    cen.writeUInt32LE(e.data.length, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt16LE(0, 30); // extra
    cen.writeUInt16LE(0, 32); // comment
    cen.writeUInt16LE(0, 34); // disk
    cen.writeUInt16LE(0, 36); // internal attrs
    cen.writeUInt32LE(e.name.endsWith('/') ? 0x10 : 0, 38); // MS-DOS directory attribute
    cen.writeUInt32LE(offset, 42);
    central.push(cen, name);
    offset += local.length + name.length + body.length;
  }
  const centralBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_SIG, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(centralBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...chunks, centralBuf, end]);
}

/** Adds the parent directory entries ('a/', 'a/b/') that `jar` would write, so class loaders and tools see folders. */
export function withDirectoryEntries(entries: readonly ZipEntryInput[]): ZipEntryInput[] {
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.name.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`);
  }
  const names = new Set(entries.map((e) => e.name));
  return [
    ...entries,
    ...[...dirs].filter((d) => !names.has(d)).map((d) => ({ name: d, data: Buffer.alloc(0) })),
  ];
}
