/**
 * GET /api/stream: Server-Sent Events of recommendation changes and critical alerts.
 *
 * Resume: a client that reconnects with `Last-Event-ID: <seq>` first receives every durable change
 * after that seq (RecommendationService.changesSince, paged), then live ones. Live changes that
 * arrive while the backlog is replayed are buffered and de-duplicated by seq, so nothing is sent
 * twice and nothing falls in the gap.
 *
 * Live changes are published after their transaction commits, and seqs are taken inside the
 * transactions, so a change can be published after one with a larger seq (its transaction took its
 * seq first and committed later). It is still sent: de-duplication is by the seqs this stream has
 * sent (the last SENT_MEMORY of them), not by "below the largest sent". A client that drops before
 * receiving such a late change and resumes after a larger id misses it on the wire; the component
 * reloads its list on every resume, which covers it.
 *
 * Backpressure: when the socket buffer is full (`write` returns false) changes queue in memory up
 * to `maxQueue`; past that the connection is destroyed (not ended: an unread socket never drains)
 * and counted (`SseObserver.dropped`, `sidecar_sse_dropped_total`). That loses nothing: the client
 * reconnects with its Last-Event-ID and catches up from the durable log. A slow client therefore
 * costs bounded memory and never holds up the others.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Change } from '../../domain/recommendation-view.ts';
import type { RecommendationService } from '../../ports.ts';
import type { Clock } from '../../ports.ts';
import type { Logger } from '../../log.ts';
import { lastEventIdSchema, parseOrThrow } from './schemas.ts';

export interface SseOptions {
  readonly heartbeatMs: number;
  /** Queued changes per client before the stream is closed (the client resumes). */
  readonly maxQueue: number;
  /** Page size when replaying the backlog. */
  readonly replayPage: number;
  /** Reconnect delay suggested to clients (SSE `retry:`). */
  readonly retryMs: number;
}

export interface SseObserver {
  /** A change reached a client's socket; `change` carries the event time for latency metrics. */
  pushed(change: Change, nowMs: number): void;
  clients(delta: 1 | -1): void;
  /** The server closed a stream: its queue passed `maxQueue` (a client that stopped reading). */
  dropped?(reason: 'slow_client'): void;
}

/** `data:` is the whole Change ({seq, type, recommendation | alert}) so it is self-describing. */
export function formatChange(change: Change): string {
  return `id: ${change.seq}\nevent: ${change.type}\ndata: ${JSON.stringify(change)}\n\n`;
}

/** Seqs a stream remembers as sent (a late change is checked against these; older ones are sent again). */
const SENT_MEMORY = 4096;

class SseClient {
  /** Seqs sent on this stream, oldest first in `#sentOrder` (bounded by SENT_MEMORY). */
  readonly #sent = new Set<number>();
  readonly #sentOrder: number[] = [];
  #replaying = true;
  #pending: Change[] = [];
  /** Live changes that arrive while the backlog is replayed; appended (sorted) after it. */
  #live: Change[] = [];
  #blocked = false;
  #closed = false;
  readonly #res: Response;
  readonly #options: SseOptions;
  readonly #observer: SseObserver | undefined;
  readonly #clock: Clock;

  constructor(res: Response, options: SseOptions, clock: Clock, observer: SseObserver | undefined) {
    this.#res = res;
    this.#options = options;
    this.#clock = clock;
    this.#observer = observer;
    res.on('drain', () => {
      this.#blocked = false;
      this.#flush();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Called for live changes; buffered until the backlog replay is done. */
  offer(change: Change): void {
    if (this.#closed) return;
    const queue = this.#replaying ? this.#live : this.#pending;
    queue.push(change);
    if (queue.length > this.#options.maxQueue) {
      this.#observer?.dropped?.('slow_client');
      // Destroy, not end: end() would wait for a socket that is not being read to drain.
      this.close(true);
      return;
    }
    if (!this.#replaying) this.#flush();
  }

  /** Backlog changes (already ordered). */
  replay(changes: readonly Change[]): void {
    for (const c of changes) this.#pending.push(c);
    this.#flush();
  }

  endReplay(): void {
    this.#live.sort((a, b) => a.seq - b.seq);
    for (const c of this.#live) this.#pending.push(c);
    this.#live = [];
    this.#replaying = false;
    this.#flush();
  }

  /** Backlog still waiting for the socket: the replay loop pauses while it is large. */
  get backlog(): number {
    return this.#pending.length;
  }

  heartbeat(): void {
    if (!this.#closed && !this.#blocked) this.#res.write(`: heartbeat ${this.#clock.now()}\n\n`);
  }

  close(destroy = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#live = [];
    if (destroy) this.#res.destroy();
    else this.#res.end();
  }

  #remember(seq: number): void {
    this.#sent.add(seq);
    this.#sentOrder.push(seq);
    if (this.#sentOrder.length > SENT_MEMORY) this.#sent.delete(this.#sentOrder.shift() as number);
  }

  #flush(): void {
    while (!this.#closed && !this.#blocked && this.#pending.length > 0) {
      const change = this.#pending.shift() as Change;
      if (this.#sent.has(change.seq)) continue;
      this.#remember(change.seq);
      const ok = this.#res.write(formatChange(change));
      this.#observer?.pushed(change, this.#clock.now());
      if (!ok) this.#blocked = true;
    }
  }
}

export function sseHandler(
  service: RecommendationService,
  options: SseOptions,
  clock: Clock,
  logger: Logger,
  observer?: SseObserver,
): RequestHandler {
  return async (req: Request, res: Response) => {
    const raw =
      req.get('last-event-id') ??
      (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
    const lastEventId = raw === undefined ? undefined : parseOrThrow(lastEventIdSchema, raw, 'Last-Event-ID');

    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    // Tells reverse proxies (nginx) not to buffer the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: ${options.retryMs}\n\n`);

    // Dedup starts from nothing, not from Last-Event-ID: the replay is seq > Last-Event-ID anyway,
    // and a live change is published once, after this subscription, so the client cannot have it.
    // Starting at Last-Event-ID would silence every live change below an id from the future (a
    // forged id, or a database restored to an older point): that client would hear nothing, ever.
    const client = new SseClient(res, options, clock, observer);
    // Subscribe before reading the backlog so a change committed in between is not missed.
    const unsubscribe = service.subscribe((c) => client.offer(c));
    observer?.clients(1);
    const timer = setInterval(() => client.heartbeat(), options.heartbeatMs);
    timer.unref();
    const cleanup = (): void => {
      clearInterval(timer);
      unsubscribe();
      client.close();
      observer?.clients(-1);
    };
    res.once('close', cleanup);

    try {
      if (lastEventId !== undefined) {
        let after = lastEventId;
        for (;;) {
          if (client.closed) return;
          const page = await service.changesSince(after, options.replayPage);
          client.replay(page);
          if (page.length < options.replayPage) break;
          after = (page[page.length - 1] as Change).seq;
          // Let the socket drain between pages so a long backlog does not pile up in memory.
          while (!client.closed && client.backlog > options.replayPage)
            await new Promise((r) => setTimeout(r, 10));
        }
      }
      client.endReplay();
      res.write(`: ready\n\n`);
    } catch (err) {
      logger.error({ err }, 'sse replay failed');
      cleanup();
    }
  };
}
