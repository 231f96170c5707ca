/**
 * Direct HTTP + SSE transport to the sidecar API (DESIGN.md "Sidecar HTTP API"). Used by the
 * preview host and by sites that let the browser reach the sidecar (through the gateway proxy
 * path or directly). SSE is read with a streaming fetch, not EventSource, because EventSource
 * cannot send the Authorization header.
 */
import { SseParser } from './sse-parser.ts';
import {
  CLIENT_ERRORS,
  TransportError,
  toTransportError,
  type ConnectionInfo,
  type ListResult,
  type Transport,
  type TransportListener,
} from './transport.ts';
import type { Change, CriticalAlert, DecisionRequest, ListFilter, Me, Recommendation } from './types.ts';
import { parseChange, parseCriticalAlerts, parseListResult, parseRecommendation } from './parse.ts';

export interface HttpSseOptions {
  /** Prefix in front of `/recommendations` and `/stream`, e.g. `/data/aimonitor/api` or `http://host:8787/api`. */
  readonly baseUrl: string;
  /** Bearer token source; null/undefined sends no Authorization header (gateway proxy uses the session). */
  readonly token?: () => string | null | undefined;
  readonly fetchImpl?: typeof fetch;
  /** First reconnect delay; doubles per failed attempt up to maxBackoffMs. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** After this many failed attempts in a row the state reads 'offline' (retries go on). */
  readonly offlineAfterAttempts?: number;
}

export class HttpSseTransport implements Transport {
  readonly #opts: Required<Omit<HttpSseOptions, 'token'>> & Pick<HttpSseOptions, 'token'>;

  constructor(options: HttpSseOptions) {
    this.#opts = {
      fetchImpl: options.fetchImpl ?? ((input, init) => globalThis.fetch(input, init)),
      initialBackoffMs: options.initialBackoffMs ?? 1_000,
      maxBackoffMs: options.maxBackoffMs ?? 15_000,
      offlineAfterAttempts: options.offlineAfterAttempts ?? 3,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      token: options.token,
    };
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = this.#opts.token?.();
    return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
  }

  async #json(path: string, init: RequestInit): Promise<unknown> {
    let res: Response;
    try {
      res = await this.#opts.fetchImpl(this.#opts.baseUrl + path, { credentials: 'same-origin', ...init });
    } catch (err) {
      throw new TransportError(CLIENT_ERRORS.NETWORK, `cannot reach the API: ${(err as Error).message}`, 0, {
        cause: err,
      });
    }
    const text = await res.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new TransportError(
          CLIENT_ERRORS.BAD_RESPONSE,
          `API answered ${res.status} with non-JSON`,
          res.status,
        );
      }
    }
    if (!res.ok) {
      const b = (body ?? {}) as { code?: unknown; message?: unknown };
      const code = typeof b.code === 'string' ? b.code : `HTTP_${res.status}`;
      const message = typeof b.message === 'string' ? b.message : `API answered ${res.status}`;
      throw new TransportError(code, message, res.status);
    }
    return body;
  }

  async list(filter: ListFilter): Promise<ListResult> {
    const q = new URLSearchParams();
    if (filter.status?.length) q.set('status', filter.status.join(','));
    if (filter.severity?.length) q.set('severity', filter.severity.join(','));
    if (filter.equipmentId) q.set('equipmentId', filter.equipmentId);
    q.set('limit', String(filter.limit));
    q.set('offset', String(filter.offset));
    const body = await this.#json(`/recommendations?${q.toString()}`, {
      headers: this.#headers({ accept: 'application/json' }),
    });
    return parseListResult(body);
  }

  async decide(id: string, request: DecisionRequest): Promise<Recommendation> {
    const body = await this.#json(`/recommendations/${encodeURIComponent(id)}/decision`, {
      method: 'POST',
      headers: this.#headers({ 'content-type': 'application/json', accept: 'application/json' }),
      body: JSON.stringify(request),
    });
    const rec = (body as { recommendation?: unknown } | null)?.recommendation ?? body;
    return parseRecommendation(rec);
  }

  async criticalAlerts(limit: number): Promise<CriticalAlert[]> {
    const body = await this.#json(`/critical-alerts?limit=${encodeURIComponent(String(limit))}`, {
      headers: this.#headers({ accept: 'application/json' }),
    });
    return parseCriticalAlerts(body);
  }

  async me(): Promise<Me> {
    const body = (await this.#json('/me', {
      headers: this.#headers({ accept: 'application/json' }),
    })) as Partial<Me> | null;
    if (!body || typeof body.user !== 'string' || !Array.isArray(body.roles)) {
      throw new TransportError(CLIENT_ERRORS.BAD_RESPONSE, 'unexpected API data: /me has no user and roles');
    }
    return {
      user: body.user,
      roles: body.roles.filter((r): r is string => typeof r === 'string'),
      via: String(body.via ?? ''),
    };
  }

  subscribe(listener: TransportListener): () => void {
    const stream = new SseConnection(
      this.#opts,
      () => this.#headers({ accept: 'text/event-stream' }),
      listener,
    );
    stream.start();
    return () => stream.stop();
  }
}

/** One live stream with its reconnect loop. */
class SseConnection {
  #stopped = false;
  #abort: AbortController | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #attempts = 0;
  #everConnected = false;
  #lastEventId: string | null = null;
  #serverRetryMs: number | null = null;

  constructor(
    private readonly opts: Required<Omit<HttpSseOptions, 'token'>>,
    private readonly headers: () => Record<string, string>,
    private readonly listener: TransportListener,
  ) {}

  start(): void {
    this.#emit('connecting', null);
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
    if (this.#timer !== null) clearTimeout(this.#timer);
  }

  #emit(state: ConnectionInfo['state'], detail: string | null): void {
    if (!this.#stopped) this.listener.onConnection({ state, attempts: this.#attempts, detail });
  }

  async #connect(): Promise<void> {
    this.#timer = null;
    const abort = new AbortController();
    this.#abort = abort;
    const headers = this.headers();
    if (this.#lastEventId !== null) headers['last-event-id'] = this.#lastEventId;
    let failure: string;
    try {
      const res = await this.opts.fetchImpl(`${this.opts.baseUrl}/stream`, {
        headers,
        credentials: 'same-origin',
        signal: abort.signal,
        cache: 'no-store',
      });
      if (!res.ok || !res.body) {
        failure = `stream answered ${res.status}`;
        await res.body?.cancel().catch(() => undefined);
      } else {
        failure = await this.#read(res.body);
      }
    } catch (err) {
      failure = toTransportError(err).message;
    }
    if (this.#stopped) return;
    this.#attempts += 1;
    this.#emit(this.#attempts >= this.opts.offlineAfterAttempts ? 'offline' : 'reconnecting', failure);
    const base = this.#serverRetryMs ?? this.opts.initialBackoffMs;
    const delay = Math.min(this.opts.maxBackoffMs, base * 2 ** Math.min(this.#attempts - 1, 10));
    this.#timer = setTimeout(() => void this.#connect(), delay);
  }

  /** Reads events until the stream ends; returns why it ended. */
  async #read(body: ReadableStream<Uint8Array>): Promise<string> {
    const resumed = this.#everConnected;
    this.#everConnected = true;
    this.#attempts = 0;
    this.#emit('online', null);
    if (resumed) this.listener.onResumed();
    const parser = new SseParser();
    parser.lastEventId = this.#lastEventId;
    const decoder = new TextDecoder();
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'the stream closed';
        for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
          this.#lastEventId = parser.lastEventId;
          const change = this.#toChange(ev.data);
          if (change && !this.#stopped) this.listener.onChange(change);
        }
        this.#serverRetryMs = parser.retryMs;
      }
    } catch (err) {
      return toTransportError(err).message;
    } finally {
      reader.releaseLock();
    }
  }

  #toChange(data: string): Change | null {
    try {
      return parseChange(JSON.parse(data));
    } catch {
      // Not a change (a hello/heartbeat payload, or a newer event type): ignoring it keeps the
      // stream alive for the events we understand.
      return null;
    }
  }
}
