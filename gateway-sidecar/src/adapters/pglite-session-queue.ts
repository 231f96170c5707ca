/**
 * The embedded database serves every wire connection from ONE PGlite backend session, so the
 * connections must take turns by whole protocol exchanges, not by single messages.
 *
 * pglite-socket (0.2.17, the newest; upstream issue electric-sql/pglite#1046) queues single
 * frontend messages and keeps a connection's turn only while a transaction is open. An
 * extended-protocol exchange (Parse, Bind, Describe, Execute ... Sync) is not a transaction, yet
 * its unnamed prepared statement lives in the session until ReadyForQuery: when a large statement
 * arrives in several TCP chunks, another connection's Parse runs in between and the first one
 * binds to the wrong statement ("bind message supplies 5 parameters, but prepared statement ""
 * requires 3", or silently the other query's rows). With `pg`'s pool that hit concurrent API reads
 * while the sink wrote a batch. Also, one failed message left its queue marked busy for ever.
 *
 * This queue replaces the library's (same four methods, which its connection handlers call): a
 * connection keeps the session from its first message until the backend is idle again - its
 * last reply is ReadyForQuery with status 'I' and no extended exchange is open (no Sync pending).
 * That covers simple queries, extended exchanges, COPY and transactions alike. A connection that
 * goes away while it holds the session has its exchange closed (Sync / CopyFail) and any open
 * transaction rolled back, and the others go on.
 */
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** The part of PGlite this queue uses. */
export interface SessionBackend {
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
  execProtocolRawStream(
    message: Uint8Array,
    options: { onRawData: (data: Uint8Array) => void },
  ): Promise<void>;
}

interface QueuedMessage {
  readonly handlerId: number;
  readonly message: Uint8Array;
  readonly onData: (data: Uint8Array) => void;
  readonly resolve: (bytes: number) => void;
  readonly reject: (err: Error) => void;
}

const code = (c: string): number => c.charCodeAt(0);
/** Frontend messages that open or continue an extended-protocol exchange (closed by Sync). */
const EXTENDED = new Set(['P', 'B', 'D', 'E', 'C', 'H', 'F'].map(code));
const SYNC = code('S');
const READY_FOR_QUERY = code('Z');
const COPY_IN_RESPONSE = code('G');
const IDLE = code('I');

function frame(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = code(type);
  new DataView(out.buffer).setInt32(1, 4 + body.length);
  out.set(body, 5);
  return out;
}
const SYNC_MESSAGE = frame('S', new Uint8Array(0));
const COPY_FAIL_MESSAGE = frame('f', new TextEncoder().encode('client disconnected\0'));
const ROLLBACK_MESSAGE = frame('Q', new TextEncoder().encode('ROLLBACK\0'));

/** Follows backend message boundaries across reply chunks; remembers the last complete message. */
class BackendReplies {
  #header = new Uint8Array(5);
  #headerBytes = 0;
  #bodyLeft = 0;
  #type = 0;
  #lastByte = 0;
  /** Type of the last complete backend message (0: none yet). */
  lastType = 0;
  /** Transaction status of the last ReadyForQuery ('I', 'T' or 'E'). */
  status = IDLE;

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#headerBytes < 5) {
        this.#header[this.#headerBytes++] = chunk[i++] as number;
        if (this.#headerBytes === 5) {
          this.#type = this.#header[0] as number;
          this.#bodyLeft = new DataView(this.#header.buffer).getInt32(1) - 4;
          if (this.#bodyLeft <= 0) this.#complete();
        }
        continue;
      }
      const take = Math.min(this.#bodyLeft, chunk.length - i);
      this.#lastByte = chunk[i + take - 1] as number;
      i += take;
      this.#bodyLeft -= take;
      if (this.#bodyLeft === 0) this.#complete();
    }
  }

  /** True between whole messages. */
  get aligned(): boolean {
    return this.#headerBytes === 0;
  }

  #complete(): void {
    this.lastType = this.#type;
    if (this.#type === READY_FOR_QUERY) this.status = this.#lastByte;
    this.#headerBytes = 0;
    this.#bodyLeft = 0;
  }
}

export class SessionQueue {
  readonly #db: SessionBackend;
  #queue: QueuedMessage[] = [];
  #processing = false;
  /** The connection that holds the session until it is idle again (null: free). */
  #owner: number | null = null;
  /** An extended exchange is open (a message since the last Sync). */
  #extendedOpen = false;
  /** Connections that went away (their clean-up runs when they hold the session). */
  readonly #departed = new Set<number>();
  readonly #replies = new BackendReplies();

  constructor(db: SessionBackend) {
    this.#db = db;
  }

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ handlerId, message, onData, resolve, reject });
      void this.#process();
    });
  }

  getQueueLength(): number {
    return this.#queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.#queue = this.#queue.filter((q) => {
      if (q.handlerId !== handlerId) return true;
      q.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  /**
   * Called when a connection goes away. If it holds the session its exchange is closed and any
   * open transaction rolled back (by the processing loop, so it never races a message in flight).
   */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    this.#departed.add(handlerId);
    await this.#process();
  }

  async #run(message: Uint8Array, onData?: (data: Uint8Array) => void): Promise<number> {
    let bytes = 0;
    await this.#db.execProtocolRawStream(message, {
      onRawData: (data) => {
        bytes += data.length;
        this.#replies.push(data);
        onData?.(data);
      },
    });
    return bytes;
  }

  /** Returns the session to idle after its owner left mid-exchange. */
  async #release(): Promise<void> {
    try {
      await this.#db.runExclusive(async () => {
        if (this.#replies.lastType === COPY_IN_RESPONSE) await this.#run(COPY_FAIL_MESSAGE);
        if (this.#extendedOpen) await this.#run(SYNC_MESSAGE);
        this.#extendedOpen = false;
        if (this.#replies.status !== IDLE) await this.#run(ROLLBACK_MESSAGE);
      });
    } catch {
      // Nothing more can be done for a session that cannot even take a Sync; let the others try.
    }
    this.#owner = null;
  }

  #next(): QueuedMessage | undefined {
    if (this.#owner === null) return this.#queue.shift();
    const i = this.#queue.findIndex((q) => q.handlerId === this.#owner);
    return i === -1 ? undefined : this.#queue.splice(i, 1)[0];
  }

  async #process(): Promise<void> {
    if (this.#processing) return;
    this.#processing = true;
    try {
      for (;;) {
        const item = this.#next();
        if (item === undefined) {
          if (this.#owner !== null && this.#departed.has(this.#owner)) {
            await this.#release();
            continue;
          }
          break;
        }
        this.#owner = item.handlerId;
        const type = item.message[0] as number;
        try {
          const bytes = await this.#db.runExclusive(() => this.#run(item.message, item.onData));
          if (EXTENDED.has(type)) this.#extendedOpen = true;
          else if (type === SYNC) this.#extendedOpen = false;
          const idle =
            !this.#extendedOpen &&
            this.#replies.aligned &&
            (this.#replies.lastType === READY_FOR_QUERY || this.#replies.lastType === 0) &&
            this.#replies.status === IDLE;
          if (idle) this.#owner = null;
          item.resolve(bytes);
        } catch (err) {
          // The connection's handler closes it on this error; its departure releases the session.
          item.reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
    } finally {
      // With the session free, no departed connection can hold it again (it sends nothing more).
      if (this.#owner === null) this.#departed.clear();
      this.#processing = false;
    }
  }
}

/**
 * Puts a SessionQueue in place of the server's own queue. Call before `start()`: each connection
 * handler takes the server's queue when the connection arrives.
 * @throws Error when the installed pglite-socket no longer has the queue this replaces.
 */
export function installSessionQueue(server: PGLiteSocketServer, db: SessionBackend): SessionQueue {
  const holder = server as unknown as { queryQueue?: { enqueue?: unknown } };
  if (typeof holder.queryQueue?.enqueue !== 'function') {
    throw new Error(
      'pglite-socket has no queryQueue to replace; check src/adapters/pglite-session-queue.ts against the installed version',
    );
  }
  const queue = new SessionQueue(db);
  (holder as { queryQueue: unknown }).queryQueue = queue;
  return queue;
}
