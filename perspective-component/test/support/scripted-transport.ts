/**
 * A Transport whose answers the test scripts: the port fake for store and view tests. The real
 * transports are tested separately against a real HTTP server and the delegate stand-in.
 */
import type { ListResult, Transport, TransportListener } from '../../src/api/transport.ts';
import type { DecisionRequest, ListFilter, Recommendation } from '../../src/api/types.ts';

interface Deferred<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

export class ScriptedTransport implements Transport {
  readonly listCalls: ListFilter[] = [];
  readonly decideCalls: { id: string; request: DecisionRequest }[] = [];
  /** What list() answers (filtered by nothing: the test decides). */
  items: Recommendation[] = [];
  listError: Error | null = null;
  listener: TransportListener | null = null;
  #decisions: Deferred<Recommendation>[] = [];

  async list(filter: ListFilter): Promise<ListResult> {
    this.listCalls.push(filter);
    if (this.listError) throw this.listError;
    return { items: this.items.map((r) => ({ ...r })), total: this.items.length };
  }

  decide(id: string, request: DecisionRequest): Promise<Recommendation> {
    this.decideCalls.push({ id, request });
    return new Promise((resolve, reject) => this.#decisions.push({ resolve, reject }));
  }

  /** Settles the oldest open decide() call. */
  answerDecision(result: Recommendation | Error): void {
    const d = this.#decisions.shift();
    if (!d) throw new Error('no decision is waiting');
    if (result instanceof Error) d.reject(result);
    else d.resolve(result);
  }

  subscribe(listener: TransportListener): () => void {
    this.listener = listener;
    listener.onConnection({ state: 'online', attempts: 0, detail: null });
    return () => {
      this.listener = null;
    };
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}
