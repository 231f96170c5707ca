/**
 * A durable, bounded FIFO of typed records on local disk: what the sidecar keeps while Postgres /
 * Lakebase is unreachable. Records are appended as NDJSON lines to segment files under `dir`
 * and fsync'd before `append` resolves; `ack(seq)` records (atomically, fsync'd) that everything
 * up to `seq` reached the database, and segments that are entirely acknowledged are deleted.
 *
 * File I/O is synchronous: an append blocks the event loop for one fsync (a few ms on an SSD), and
 * the journal is only written while the database is unreachable, so the hot path never pays it.
 *
 * Crash safety: a record is either fully on disk or not (a torn last line left by a crash is cut
 * off when the journal is reopened). A record acknowledged late is replayed after a crash, so the
 * consumer must be idempotent (the sinks use ON CONFLICT on stable ids).
 *
 * Bound (`maxBytes`): when an append would take the journal past it, the oldest segments are
 * compacted with the `shrink` callback: each record keeps only what must survive (bronze rows and
 * non-anomalous silver rows may go; anomalies, alerts and recommendation upserts are never
 * dropped) and the dropped row counts are kept per kind. When compaction cannot make room, new
 * droppable rows are shrunk the same way; records that must survive are always written, so the
 * journal may exceed the bound by those alone (`overLimit` says so).
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ERRORS, SidecarError } from '../errors.ts';

/** One journal entry. `seq` increases strictly in append order and never repeats in a journal. */
export interface SpoolRecord {
  readonly seq: number;
  readonly kind: string;
  readonly payload: unknown;
  readonly appendedAtMs: number;
}

/**
 * What part of a payload survives when the journal is full. Return `keep: undefined` to drop the
 * whole record, and the number of rows dropped (for the metric). Kinds without a shrink function
 * are never dropped.
 */
export type ShrinkFn = (kind: string, payload: unknown) => { keep: unknown; droppedRows: number } | undefined;

export interface SpoolJournalOptions {
  readonly dir: string;
  /** Soft bound on the journal's size on disk, bytes. */
  readonly maxBytes: number;
  /** Segment file size at which a new segment starts, bytes (default maxBytes / 16, at least 64 KiB). */
  readonly segmentBytes?: number;
  readonly shrink?: ShrinkFn;
  readonly clock?: { now(): number };
}

export interface SpoolJournalStats {
  /** Records appended but not yet acknowledged. */
  readonly depth: number;
  /** Bytes of segment files on disk. */
  readonly bytes: number;
  readonly maxBytes: number;
  readonly overLimit: boolean;
  /** Rows dropped because the journal was full, per record kind (cumulative, this process). */
  readonly droppedRows: Readonly<Record<string, number>>;
  readonly appendedTotal: number;
  readonly lastAckedSeq: number;
}

interface Segment {
  readonly path: string;
  bytes: number;
  lastSeq: number;
  /** Unacknowledged records, in order. */
  records: SpoolRecord[];
  compacted: boolean;
}

const SEGMENT_RE = /^seg-(\d{16})\.ndjson$/;

function ioError(what: string, err: unknown): SidecarError {
  return new SidecarError(ERRORS.SPOOL_IO, `spool journal: ${what}: ${(err as Error).message}`, {
    cause: err,
  });
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Durable FIFO of typed records. Not safe for two processes on one `dir`; one owner at a time. */
export class SpoolJournal {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #shrink: ShrinkFn | undefined;
  readonly #clock: { now(): number };
  readonly #segments: Segment[] = [];
  readonly #dropped: Record<string, number> = {};
  #fd: number | undefined;
  #nextSeq = 1;
  #acked = 0;
  #appended = 0;

  private constructor(options: SpoolJournalOptions) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#segmentBytes = options.segmentBytes ?? Math.max(64 * 1024, Math.floor(options.maxBytes / 16));
    this.#shrink = options.shrink;
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  /**
   * Opens (creating) the journal in `options.dir` and loads every unacknowledged record.
   * @throws SidecarError SC_ERR_SPOOL_IO when the folder cannot be read or written.
   */
  static open(options: SpoolJournalOptions): SpoolJournal {
    const j = new SpoolJournal(options);
    try {
      j.#load();
    } catch (err) {
      throw err instanceof SidecarError ? err : ioError(`cannot open '${options.dir}'`, err);
    }
    return j;
  }

  #load(): void {
    mkdirSync(this.#dir, { recursive: true });
    try {
      const ack = JSON.parse(readFileSync(join(this.#dir, 'ack.json'), 'utf8')) as { acked?: unknown };
      if (typeof ack.acked === 'number' && Number.isInteger(ack.acked)) this.#acked = ack.acked;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#nextSeq = this.#acked + 1;
    const files = readdirSync(this.#dir)
      .filter((f) => SEGMENT_RE.test(f))
      .sort();
    for (const file of files) {
      const path = join(this.#dir, file);
      const data = readFileSync(path);
      const end = data.lastIndexOf(0x0a) + 1;
      // A crash mid-append leaves a torn last line; everything before the last newline is whole.
      if (end < data.length) truncateFile(path, end);
      const seg: Segment = { path, bytes: end, lastSeq: 0, records: [], compacted: false };
      for (const line of data.subarray(0, end).toString('utf8').split('\n')) {
        if (line === '') continue;
        const raw = JSON.parse(line) as { s: number; k: string; t: number; p: unknown };
        seg.lastSeq = Math.max(seg.lastSeq, raw.s);
        this.#nextSeq = Math.max(this.#nextSeq, raw.s + 1);
        if (raw.s > this.#acked)
          seg.records.push({ seq: raw.s, kind: raw.k, payload: raw.p, appendedAtMs: raw.t });
      }
      if (seg.records.length === 0) rmSync(path, { force: true });
      else this.#segments.push(seg);
    }
  }

  /** Statistics for /metrics and /health. */
  stats(): SpoolJournalStats {
    const bytes = this.#bytes();
    return {
      depth: this.depth,
      bytes,
      maxBytes: this.#maxBytes,
      overLimit: bytes > this.#maxBytes,
      droppedRows: { ...this.#dropped },
      appendedTotal: this.#appended,
      lastAckedSeq: this.#acked,
    };
  }

  /** Number of unacknowledged records. */
  get depth(): number {
    let n = 0;
    for (const s of this.#segments) n += s.records.length;
    return n;
  }

  #bytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.bytes;
    return n;
  }

  /** The oldest unacknowledged records, at most `max`, in append order. */
  peek(max: number): readonly SpoolRecord[] {
    const out: SpoolRecord[] = [];
    for (const s of this.#segments) {
      for (const r of s.records) {
        if (out.length >= max) return out;
        out.push(r);
      }
    }
    return out;
  }

  /**
   * Appends records in order and fsyncs them. Returns the records as stored (their seq); a record
   * whose payload was dropped entirely because the journal is full is not returned.
   * @throws SidecarError SC_ERR_SPOOL_IO when the disk refuses the write.
   */
  append(items: readonly { kind: string; payload: unknown }[]): SpoolRecord[] {
    const now = this.#clock.now();
    let lines = items.map((it) => ({ ...it, line: '' }));
    let size = 0;
    const measure = (): void => {
      size = 0;
      for (const l of lines) {
        l.line = JSON.stringify({ s: 0, k: l.kind, t: now, p: l.payload });
        size += l.line.length + 12;
      }
    };
    measure();
    if (this.#bytes() + size > this.#maxBytes) {
      this.#compactOldest(this.#bytes() + size - this.#maxBytes);
      if (this.#bytes() + size > this.#maxBytes && this.#shrink) {
        lines = lines.flatMap((l) => {
          const res = this.#shrink?.(l.kind, l.payload);
          if (!res) return [l];
          this.#count(l.kind, res.droppedRows);
          return res.keep === undefined ? [] : [{ ...l, payload: res.keep }];
        });
        measure();
      }
    }
    const stored: SpoolRecord[] = lines.map((l) => ({
      seq: this.#nextSeq++,
      kind: l.kind,
      payload: l.payload,
      appendedAtMs: now,
    }));
    if (stored.length === 0) return stored;
    const text = stored
      .map((r) => JSON.stringify({ s: r.seq, k: r.kind, t: r.appendedAtMs, p: r.payload }) + '\n')
      .join('');
    try {
      const seg = this.#writableSegment(stored[0]?.seq ?? 0);
      const buf = Buffer.from(text, 'utf8');
      writeSync(this.#fd as number, buf);
      fsyncSync(this.#fd as number);
      seg.bytes += buf.length;
      seg.lastSeq = stored[stored.length - 1]?.seq ?? seg.lastSeq;
      seg.records.push(...stored);
    } catch (err) {
      throw ioError('append failed', err);
    }
    this.#appended += stored.length;
    return stored;
  }

  #writableSegment(firstSeq: number): Segment {
    const last = this.#segments[this.#segments.length - 1];
    if (last && this.#fd !== undefined && last.bytes < this.#segmentBytes && !last.compacted) return last;
    if (this.#fd !== undefined) closeSync(this.#fd);
    const path = join(this.#dir, `seg-${String(firstSeq).padStart(16, '0')}.ndjson`);
    this.#fd = openSync(path, 'a');
    fsyncDir(this.#dir);
    const seg: Segment = { path, bytes: statSync(path).size, lastSeq: 0, records: [], compacted: false };
    this.#segments.push(seg);
    return seg;
  }

  #count(kind: string, rows: number): void {
    if (rows > 0) this.#dropped[kind] = (this.#dropped[kind] ?? 0) + rows;
  }

  /** Rewrites the oldest closed segments keeping only what must survive, until `needBytes` are freed. */
  #compactOldest(needBytes: number): void {
    if (!this.#shrink) return;
    let freed = 0;
    for (const seg of this.#segments) {
      if (freed >= needBytes) break;
      if (seg.compacted) continue;
      if (seg === this.#segments[this.#segments.length - 1] && this.#fd !== undefined) {
        // Never rewrite the file that is open for appending: close it; the next append starts a new one.
        closeSync(this.#fd);
        this.#fd = undefined;
      }
      const kept: SpoolRecord[] = [];
      for (const r of seg.records) {
        const res = this.#shrink(r.kind, r.payload);
        if (!res) kept.push(r);
        else {
          this.#count(r.kind, res.droppedRows);
          if (res.keep !== undefined) kept.push({ ...r, payload: res.keep });
        }
      }
      const text = kept
        .map((r) => JSON.stringify({ s: r.seq, k: r.kind, t: r.appendedAtMs, p: r.payload }) + '\n')
        .join('');
      const tmp = `${seg.path}.tmp`;
      try {
        const fd = openSync(tmp, 'w');
        writeSync(fd, text);
        fsyncSync(fd);
        closeSync(fd);
        renameSync(tmp, seg.path);
        fsyncDir(this.#dir);
      } catch (err) {
        throw ioError('compaction failed', err);
      }
      const newBytes = Buffer.byteLength(text);
      freed += seg.bytes - newBytes;
      seg.bytes = newBytes;
      seg.records = kept;
      seg.compacted = true;
    }
    this.#dropEmptySegments();
  }

  /**
   * Marks every record up to and including `seq` as delivered (fsync'd) and deletes segments that
   * hold nothing else.
   * @throws SidecarError SC_ERR_SPOOL_IO
   */
  ack(seq: number): void {
    if (seq <= this.#acked) return;
    try {
      const tmp = join(this.#dir, 'ack.json.tmp');
      const fd = openSync(tmp, 'w');
      writeSync(fd, JSON.stringify({ acked: seq }));
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, join(this.#dir, 'ack.json'));
      fsyncDir(this.#dir);
    } catch (err) {
      throw ioError('ack failed', err);
    }
    this.#acked = seq;
    for (const s of this.#segments) s.records = s.records.filter((r) => r.seq > seq);
    this.#dropEmptySegments();
  }

  #dropEmptySegments(): void {
    for (let i = this.#segments.length - 1; i >= 0; i--) {
      const s = this.#segments[i] as Segment;
      if (s.records.length > 0) continue;
      const isOpen = i === this.#segments.length - 1 && this.#fd !== undefined;
      if (isOpen) {
        closeSync(this.#fd as number);
        this.#fd = undefined;
      }
      rmSync(s.path, { force: true });
      this.#segments.splice(i, 1);
    }
  }

  /** Closes the open segment file. Unacknowledged records stay on disk for the next open. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function truncateFile(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
