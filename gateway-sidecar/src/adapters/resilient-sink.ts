/**
 * Keeps the pipeline running when Postgres / Lakebase is unreachable. Every database write that
 * must not be lost goes through `submit(kind, payload)`:
 *
 *   - database healthy and nothing spooled: the kind's handler writes it at once;
 *   - the write fails for a transient reason (connection refused/reset, timeout, server shutting
 *     down): the payload is appended to the SpoolJournal (fsync'd), `SC_WRN_001` is logged once
 *     per outage, and a retry loop with exponential backoff replays the journal IN ORDER once the
 *     database answers again; later submits go to the journal behind it so order is kept;
 *   - the write fails for a permanent reason (bad data, constraint violation, SQLSTATE classes
 *     other than connection/resource/shutdown): the payload goes to `dead-letter.ndjson`, is
 *     counted and logged with `SC_ERR_DB_WRITE_REJECTED`, and nothing else is held up.
 *
 * Handlers MUST be idempotent: after a crash or an attempt that timed out but did commit, a
 * payload is written again (bronze/silver/alerts use ON CONFLICT DO NOTHING on stable ids; a
 * recommendation upsert must recognise an event it already counted).
 *
 * Other stores add their own kinds: `sink.register('recommendation_upsert', { write, shrink? })`.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { ERRORS, WARNINGS } from '../errors.ts';
import type { Logger } from '../log.ts';
import { SpoolJournal, type SpoolJournalStats, type SpoolRecord } from './spool-journal.ts';

/** How one record kind reaches the database. */
export interface SpoolHandler<P> {
  /** Writes one payload. Must be idempotent. Throw to signal failure (see isTransientDbError). */
  write(payload: P): Promise<void>;
  /**
   * Called only when the journal is full: returns what of the payload must survive (`keep`,
   * undefined drops it all) and how many rows were dropped. Omit to make the kind undroppable.
   */
  shrink?(payload: P): { keep: P | undefined; droppedRows: number };
}

export type SinkState = 'direct' | 'spooling' | 'draining';
export type SubmitOutcome = 'written' | 'spooled' | 'rejected';

export interface ResilientSinkOptions {
  /** Journal folder, normally `<dataDir>/spool`. */
  readonly dir: string;
  readonly logger: Logger;
  /** Journal bound, bytes (default 64 MiB). */
  readonly maxBytes?: number;
  readonly segmentBytes?: number;
  /** First retry delay after a failure, ms (default 500); doubles up to retryMaxMs (default 30 000). */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** A write that has not settled after this long counts as failed (and is spooled), ms (default 30 000). */
  readonly attemptTimeoutMs?: number;
  /** Records replayed per journal acknowledgement (default 16). */
  readonly drainBatch?: number;
}

export interface ResilientSinkStats {
  readonly state: SinkState;
  readonly journal: SpoolJournalStats;
  readonly writtenTotal: number;
  readonly spooledTotal: number;
  readonly replayedTotal: number;
  readonly deadLetteredTotal: number;
  readonly failedAttemptsTotal: number;
  readonly lastError: string | undefined;
}

/** Options from config: journal in `<dataDir>/spool`, bound and backoff from `database.*`. */
export function resilientSinkOptionsFrom(
  config: Pick<Config, 'dataDir' | 'database'>,
  logger: Logger,
): ResilientSinkOptions {
  return {
    dir: join(config.dataDir, 'spool'),
    logger,
    maxBytes: config.database.spoolMaxBytes,
    retryMaxMs: config.database.spoolRetryMaxMs,
  };
}

const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '53', '57', '58']);
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '55006']);

/**
 * True when retrying later can succeed: no SQLSTATE (socket errors, pg's "Connection terminated",
 * timeouts) or a connection / resource / operator-intervention / serialization SQLSTATE.
 */
export function isTransientDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2)) || TRANSIENT_SQLSTATES.has(code);
}

class AttemptTimeout extends Error {}

/** Routes writes to the database, spooling to a durable journal while it is unreachable. */
export class ResilientSink {
  readonly #journal: SpoolJournal;
  readonly #handlers = new Map<string, SpoolHandler<unknown>>();
  readonly #log: Logger;
  readonly #dir: string;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #drainBatch: number;
  readonly #listeners: ((state: SinkState) => void)[] = [];
  #state: SinkState;
  #tail: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #delayMs: number;
  #closed = false;
  #started = false;
  #counts = { written: 0, spooled: 0, replayed: 0, deadLettered: 0, failedAttempts: 0 };
  #lastError: string | undefined;
  #waitingKind: string | undefined;

  /**
   * Opens the journal (records left by an earlier run are kept and replayed once `start()` is
   * called and their kinds are registered).
   * @throws SidecarError SC_ERR_SPOOL_IO
   */
  constructor(options: ResilientSinkOptions) {
    this.#dir = options.dir;
    this.#log = options.logger.child({ component: 'spool' });
    this.#retryInitialMs = options.retryInitialMs ?? 500;
    this.#retryMaxMs = options.retryMaxMs ?? 30_000;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 30_000;
    this.#drainBatch = options.drainBatch ?? 16;
    this.#delayMs = this.#retryInitialMs;
    this.#journal = SpoolJournal.open({
      dir: options.dir,
      maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
      segmentBytes: options.segmentBytes,
      shrink: (kind, payload) => this.#handlers.get(kind)?.shrink?.(payload),
    });
    this.#state = this.#journal.depth > 0 ? 'draining' : 'direct';
  }

  /** Registers the handler of one record kind. Register every kind before `start()` (nothing is retried before it). */
  register<P>(kind: string, handler: SpoolHandler<P>): void {
    this.#handlers.set(kind, handler as SpoolHandler<unknown>);
  }

  /** Starts replaying what an earlier run left in the journal. */
  start(): void {
    this.#started = true;
    if (this.#journal.depth > 0) {
      this.#log.info({ depth: this.#journal.depth }, 'replaying spool journal left by an earlier run');
      this.#schedule(0);
    }
  }

  /** Current state: 'direct' (nothing spooled), 'spooling' (database failing) or 'draining'. */
  get state(): SinkState {
    return this.#state;
  }

  /** Called with every state change (for /health and the UI). */
  onStateChange(listener: (state: SinkState) => void): void {
    this.#listeners.push(listener);
  }

  stats(): ResilientSinkStats {
    const c = this.#counts;
    return {
      state: this.#state,
      journal: this.#journal.stats(),
      writtenTotal: c.written,
      spooledTotal: c.spooled,
      replayedTotal: c.replayed,
      deadLetteredTotal: c.deadLettered,
      failedAttemptsTotal: c.failedAttempts,
      lastError: this.#lastError,
    };
  }

  /**
   * Writes `payload` through the handler of `kind`, or spools it durably. Submits are applied in
   * call order. Resolves 'written' (in the database), 'spooled' (on disk, will be replayed) or
   * 'rejected' (permanent database error; dead-lettered).
   * @throws Error when `kind` has no handler; SidecarError SC_ERR_SPOOL_IO when the disk fails too.
   */
  submit<P>(kind: string, payload: P): Promise<SubmitOutcome> {
    const handler = this.#handlers.get(kind);
    if (!handler) return Promise.reject(new Error(`no spool handler registered for kind '${kind}'`));
    return this.#serial(async () => {
      if (this.#state !== 'direct') {
        this.#append(kind, payload);
        this.#schedule(this.#timer ? undefined : 0);
        return 'spooled';
      }
      try {
        await this.#attempt(handler, payload);
        this.#counts.written++;
        return 'written';
      } catch (err) {
        if (!isTransientDbError(err)) {
          this.#deadLetter(kind, payload, err);
          return 'rejected';
        }
        this.#failed(err);
        this.#append(kind, payload);
        return 'spooled';
      }
    });
  }

  /** Resolves when the journal is empty (or rejects after `timeoutMs`). For shutdown and tests. */
  async drained(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#journal.depth > 0 || this.#state !== 'direct') {
      if (Date.now() > deadline)
        throw new Error(`spool not drained after ${timeoutMs} ms (depth ${this.#journal.depth})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.#serial(async () => undefined);
  }

  /** Stops retrying and closes the journal; what is spooled stays on disk for the next run. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#tail.catch(() => undefined);
    this.#journal.close();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #attempt(handler: SpoolHandler<unknown>, payload: unknown): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AttemptTimeout(`write timed out after ${this.#attemptTimeoutMs} ms`)),
        this.#attemptTimeoutMs,
      );
    });
    return Promise.race([handler.write(payload), timeout]).finally(() => clearTimeout(timer));
  }

  #append(kind: string, payload: unknown): void {
    const stored = this.#journal.append([{ kind, payload }]);
    this.#counts.spooled += stored.length;
    const st = this.#journal.stats();
    if (st.overLimit || Object.keys(st.droppedRows).length > 0) this.#warnFull(st);
  }

  #warnedFullAt = 0;
  #warnFull(st: SpoolJournalStats): void {
    // Once a minute at most: a long outage would otherwise log on every batch.
    if (Date.now() - this.#warnedFullAt < 60_000) return;
    this.#warnedFullAt = Date.now();
    this.#log.warn(
      { code: WARNINGS.SPOOLING.code, bytes: st.bytes, maxBytes: st.maxBytes, droppedRows: st.droppedRows },
      'spool journal full: oldest droppable rows (bronze, non-anomalous silver) are being dropped',
    );
  }

  #failed(err: unknown): void {
    this.#counts.failedAttempts++;
    this.#lastError = (err as Error).message;
    if (this.#state === 'direct') {
      this.#log.warn(
        { code: WARNINGS.SPOOLING.code, err },
        'database unreachable: spooling to the local journal',
      );
    }
    this.#setState('spooling');
    this.#schedule(this.#delayMs);
    this.#delayMs = Math.min(this.#retryMaxMs, this.#delayMs * 2);
  }

  #setState(state: SinkState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const l of this.#listeners) l(state);
  }

  #schedule(delayMs: number | undefined): void {
    if (this.#closed || !this.#started || delayMs === undefined) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#serial(() => this.#drainStep());
    }, delayMs);
  }

  /** Replays up to drainBatch records, acknowledges them, and schedules the next step. */
  async #drainStep(): Promise<void> {
    if (this.#closed) return;
    const batch = this.#journal.peek(this.#drainBatch);
    let lastDone: SpoolRecord | undefined;
    for (const record of batch) {
      const handler = this.#handlers.get(record.kind);
      if (!handler) {
        if (this.#waitingKind !== record.kind)
          this.#log.error(
            { kind: record.kind, seq: record.seq },
            'spooled record of an unregistered kind blocks the journal',
          );
        this.#waitingKind = record.kind;
        break;
      }
      try {
        await this.#attempt(handler, record.payload);
        this.#counts.replayed++;
      } catch (err) {
        if (isTransientDbError(err)) {
          if (lastDone) this.#journal.ack(lastDone.seq);
          this.#failed(err);
          return;
        }
        this.#deadLetter(record.kind, record.payload, err);
      }
      lastDone = record;
    }
    if (lastDone) this.#journal.ack(lastDone.seq);
    if (this.#journal.depth === 0) {
      this.#delayMs = this.#retryInitialMs;
      if (this.#state !== 'direct')
        this.#log.info({ replayed: this.#counts.replayed }, 'spool journal flushed; writing directly again');
      this.#setState('direct');
      return;
    }
    if (lastDone) {
      this.#setState('draining');
      this.#schedule(0);
    } else {
      this.#schedule(this.#retryMaxMs);
    }
  }

  #deadLetter(kind: string, payload: unknown, err: unknown): void {
    this.#counts.deadLettered++;
    const e = err as { code?: string; message?: string };
    this.#log.error(
      { code: ERRORS.DB_WRITE_REJECTED.code, kind, sqlstate: e.code, err },
      'database rejected a batch; kept in the dead-letter file',
    );
    const fd = openSync(join(this.#dir, 'dead-letter.ndjson'), 'a');
    try {
      writeSync(
        fd,
        JSON.stringify({ at: new Date().toISOString(), kind, sqlstate: e.code, error: e.message, payload }) +
          '\n',
      );
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
