/**
 * The one small interface between the store and the data channel. Two implementations ship:
 * HttpSseTransport (direct HTTP + SSE to the sidecar) and DelegateTransport (Perspective's
 * ComponentStoreDelegate over the session websocket). A third, BoundTransport, serves a
 * designer-bound `recommendations` prop. The store and views never know which one is in use.
 */
import type { Change, CriticalAlert, DecisionRequest, ListFilter, Me, Recommendation } from './types.ts';

/** 'online': live updates flow; 'reconnecting': a retry is under way; 'offline': retries keep failing. */
export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface ConnectionInfo {
  readonly state: ConnectionState;
  /** Failed attempts since the last successful connection. */
  readonly attempts: number;
  /** Why the last attempt failed, for the tooltip / status text. */
  readonly detail: string | null;
}

export interface TransportListener {
  onChange(change: Change): void;
  onConnection(info: ConnectionInfo): void;
  /** The channel came back after a drop: the store reloads to cover anything missed. */
  onResumed(): void;
}

export interface ListResult {
  readonly items: Recommendation[];
  readonly total: number;
}

export interface Transport {
  list(filter: ListFilter): Promise<ListResult>;
  decide(id: string, request: DecisionRequest): Promise<Recommendation>;
  /** Starts live updates; returns the function that stops them. */
  subscribe(listener: TransportListener): () => void;
  /** Who we are, when the channel can tell (lets a viewer see disabled buttons up front). */
  me?(): Promise<Me>;
  /**
   * The latest critical alerts, newest first (GET /api/critical-alerts), so a panel opened or
   * reloaded during an emergency shows it; absent where the channel has none (designer-bound data).
   */
  criticalAlerts?(limit: number): Promise<CriticalAlert[]>;
}

/** Client-side error codes (the sidecar's own codes pass through unchanged). */
export const CLIENT_ERRORS = {
  NETWORK: 'CLIENT_ERR_NETWORK',
  BAD_RESPONSE: 'CLIENT_ERR_BAD_RESPONSE',
  TIMEOUT: 'CLIENT_ERR_TIMEOUT',
} as const;

/** A failed call: `code` is an SC_ERR_* code from the sidecar or a CLIENT_ERR_* code. */
export class TransportError extends Error {
  readonly code: string;
  /** HTTP status when known (409 conflict, 403 forbidden…), else 0. */
  readonly status: number;
  constructor(code: string, message: string, status = 0, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
    this.status = status;
  }
  get isConflict(): boolean {
    return this.status === 409 || this.code === 'SC_ERR_API_CONFLICT';
  }
  get isForbidden(): boolean {
    return this.status === 403 || this.code === 'SC_ERR_API_FORBIDDEN';
  }
}

export function toTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TransportError(CLIENT_ERRORS.NETWORK, message, 0, { cause: err });
}
