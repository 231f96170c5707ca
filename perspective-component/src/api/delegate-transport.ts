/**
 * Transport over Perspective's component delegate channel (ComponentStoreDelegate on the browser
 * side, the module's ComponentModelDelegate in the gateway). The gateway side adds the logged-in
 * user's signed identity and calls the sidecar, so the browser never holds a sidecar credential.
 * Message names and payloads: perspective-component/DELEGATE-PROTOCOL.md.
 */
import { parseChange, parseCriticalAlerts, parseListResult, parseRecommendation } from './parse.ts';
import {
  CLIENT_ERRORS,
  TransportError,
  type ConnectionState,
  type ListResult,
  type Transport,
  type TransportListener,
} from './transport.ts';
import type { CriticalAlert, DecisionRequest, ListFilter, Recommendation } from './types.ts';

export const DELEGATE_MESSAGES = {
  LIST_REQUEST: 'list-request',
  LIST_RESPONSE: 'list-response',
  DECIDE_REQUEST: 'decide-request',
  DECIDE_RESPONSE: 'decide-response',
  ALERTS_REQUEST: 'alerts-request',
  ALERTS_RESPONSE: 'alerts-response',
  SUBSCRIBE: 'subscribe',
  UNSUBSCRIBE: 'unsubscribe',
  CHANGE: 'change',
  STREAM_STATE: 'stream-state',
  ERROR: 'error',
} as const;

/** The two halves of a ComponentStoreDelegate this transport needs. */
export interface DelegateChannel {
  fireEvent(eventName: string, payload: Record<string, unknown>): void;
  /** Installs the handler for events from the gateway; returns the function that removes it. */
  onEvent(handler: (eventName: string, payload: Record<string, unknown>) => void): () => void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: TransportError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class DelegateTransport implements Transport {
  readonly #channel: DelegateChannel;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, Pending>();
  readonly #listeners = new Set<TransportListener>();
  #nextId = 1;
  #lastSeq: number | null = null;
  #everOnline = false;
  #off: (() => void) | null = null;

  constructor(channel: DelegateChannel, options: { requestTimeoutMs?: number } = {}) {
    this.#channel = channel;
    this.#timeoutMs = options.requestTimeoutMs ?? 15_000;
  }

  #ensureHandler(): void {
    this.#off ??= this.#channel.onEvent((name, payload) => this.#handle(name, payload));
  }

  #request(type: string, payload: Record<string, unknown>): Promise<unknown> {
    this.#ensureHandler();
    const requestId = `r${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(
          new TransportError(
            CLIENT_ERRORS.TIMEOUT,
            `no answer from the gateway to ${type} within ${this.#timeoutMs} ms`,
          ),
        );
      }, this.#timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
      this.#channel.fireEvent(type, { ...payload, requestId });
    });
  }

  #settle(payload: Record<string, unknown>, fn: (p: Pending) => void): void {
    const id = typeof payload.requestId === 'string' ? payload.requestId : '';
    const pending = this.#pending.get(id);
    if (!pending) return; // late answer to a timed-out request: nothing waits for it
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    fn(pending);
  }

  #handle(name: string, payload: Record<string, unknown>): void {
    switch (name) {
      case DELEGATE_MESSAGES.LIST_RESPONSE:
      case DELEGATE_MESSAGES.DECIDE_RESPONSE:
      case DELEGATE_MESSAGES.ALERTS_RESPONSE:
        this.#settle(payload, (p) => p.resolve(payload));
        return;
      case DELEGATE_MESSAGES.ERROR: {
        const code = typeof payload.code === 'string' ? payload.code : CLIENT_ERRORS.BAD_RESPONSE;
        const message = typeof payload.message === 'string' ? payload.message : 'gateway reported an error';
        const status = typeof payload.status === 'number' ? payload.status : 0;
        this.#settle(payload, (p) => p.reject(new TransportError(code, message, status)));
        return;
      }
      case DELEGATE_MESSAGES.CHANGE: {
        let change;
        try {
          change = parseChange(payload);
        } catch {
          return; // a malformed push must not break the channel; the next reload repairs state
        }
        if (change.seq > 0) this.#lastSeq = change.seq;
        for (const l of this.#listeners) l.onChange(change);
        return;
      }
      case DELEGATE_MESSAGES.STREAM_STATE: {
        const state = (['online', 'reconnecting', 'offline', 'connecting'] as const).find(
          (s) => s === payload.state,
        );
        if (!state) return;
        const detail = typeof payload.detail === 'string' ? payload.detail : null;
        const attempts = typeof payload.attempts === 'number' ? payload.attempts : 0;
        for (const l of this.#listeners) l.onConnection({ state, attempts, detail });
        if (state === 'online') {
          if (this.#everOnline) for (const l of this.#listeners) l.onResumed();
          this.#everOnline = true;
        }
        return;
      }
      default:
        return;
    }
  }

  async list(filter: ListFilter): Promise<ListResult> {
    const answer = await this.#request(DELEGATE_MESSAGES.LIST_REQUEST, { filter: { ...filter } });
    return parseListResult(answer);
  }

  async criticalAlerts(limit: number): Promise<CriticalAlert[]> {
    return parseCriticalAlerts(await this.#request(DELEGATE_MESSAGES.ALERTS_REQUEST, { limit }));
  }

  async decide(id: string, request: DecisionRequest): Promise<Recommendation> {
    const answer = (await this.#request(DELEGATE_MESSAGES.DECIDE_REQUEST, {
      id,
      request: { ...request },
    })) as {
      recommendation?: unknown;
    };
    return parseRecommendation(answer.recommendation);
  }

  subscribe(listener: TransportListener): () => void {
    this.#ensureHandler();
    this.#listeners.add(listener);
    const initial: ConnectionState = 'connecting';
    listener.onConnection({ state: initial, attempts: 0, detail: null });
    this.#channel.fireEvent(DELEGATE_MESSAGES.SUBSCRIBE, { lastSeq: this.#lastSeq });
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#channel.fireEvent(DELEGATE_MESSAGES.UNSUBSCRIBE, {});
        this.#off?.();
        this.#off = null;
        for (const [, p] of this.#pending) {
          clearTimeout(p.timer);
          p.reject(new TransportError(CLIENT_ERRORS.NETWORK, 'the component was unmounted'));
        }
        this.#pending.clear();
      }
    };
  }
}
