/**
 * Browser half of the delegate channel. Perspective creates it through ComponentMeta.createDelegate
 * and routes the gateway's events to handleEvent; DelegateTransport talks through it.
 */
import {
  ComponentStoreDelegate,
  type AbstractUIElementStore,
  type JsObject,
} from '@inductiveautomation/perspective-client';
import type { DelegateChannel } from '../../api/delegate-transport.ts';

type Handler = (eventName: string, payload: Record<string, unknown>) => void;

/** Events that arrive before the view subscribes are held, up to this many. */
const MAX_QUEUED = 100;

export class RecommendationsDelegate extends ComponentStoreDelegate implements DelegateChannel {
  #handler: Handler | null = null;
  #queue: [string, Record<string, unknown>][] = [];

  constructor(component: AbstractUIElementStore) {
    super(component);
  }

  override handleEvent(eventName: string, eventObject: JsObject): void {
    const payload = (eventObject ?? {}) as Record<string, unknown>;
    if (this.#handler) this.#handler(eventName, payload);
    else if (this.#queue.length < MAX_QUEUED) this.#queue.push([eventName, payload]);
  }

  onEvent(handler: Handler): () => void {
    this.#handler = handler;
    const queued = this.#queue;
    this.#queue = [];
    for (const [name, payload] of queued) handler(name, payload);
    return () => {
      if (this.#handler === handler) this.#handler = null;
    };
  }
}
