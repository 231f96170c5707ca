/**
 * Transport for a designer-bound `recommendations` prop (e.g. from a named query). It never calls
 * the sidecar: lists come from the bound array and a decision is only applied locally, so the
 * view's `onDecision` script is what carries it out (docs/component.md "Bound data").
 */
import type { ListResult, Transport, TransportListener } from './transport.ts';
import type { DecisionRequest, ListFilter, Recommendation, RecommendationStatus } from './types.ts';
import { parseRecommendation } from './parse.ts';

const STATUS_AFTER: Record<DecisionRequest['decision'], RecommendationStatus> = {
  approve: 'approved',
  defer: 'deferred',
  reject: 'rejected',
};

export class BoundTransport implements Transport {
  #items: Recommendation[] = [];
  readonly #listeners = new Set<TransportListener>();
  /** Rows of the bound value that were not recommendations, with the reason (shown to designers). */
  invalid: string[] = [];

  constructor(items: readonly unknown[]) {
    this.#set(items);
  }

  #set(items: readonly unknown[]): void {
    this.invalid = [];
    this.#items = [];
    items.forEach((item, i) => {
      try {
        this.#items.push(parseRecommendation(item));
      } catch (err) {
        this.invalid.push(`row ${i}: ${(err as Error).message}`);
      }
    });
  }

  /** The bound value changed: listeners reload. */
  update(items: readonly unknown[]): void {
    this.#set(items);
    for (const l of this.#listeners) l.onResumed();
  }

  async list(filter: ListFilter): Promise<ListResult> {
    const matching = this.#items.filter(
      (r) =>
        (!filter.status?.length || filter.status.includes(r.status)) &&
        (!filter.severity?.length || filter.severity.includes(r.severity)) &&
        (!filter.equipmentId || r.equipmentId === filter.equipmentId),
    );
    return { items: matching.slice(filter.offset, filter.offset + filter.limit), total: matching.length };
  }

  async decide(id: string, request: DecisionRequest): Promise<Recommendation> {
    const current = this.#items.find((r) => r.id === id);
    if (!current) throw new Error(`no bound recommendation with id '${id}'`);
    const next: Recommendation = {
      ...current,
      status: STATUS_AFTER[request.decision],
      operatorNotes: request.note ?? current.operatorNotes,
      deferredUntil: request.deferUntil ?? current.deferredUntil,
      version: current.version + 1,
    };
    this.#items = this.#items.map((r) => (r.id === id ? next : r));
    return next;
  }

  subscribe(listener: TransportListener): () => void {
    this.#listeners.add(listener);
    listener.onConnection({ state: 'online', attempts: 0, detail: null });
    return () => this.#listeners.delete(listener);
  }
}
