/**
 * A minimal stand-in for the Perspective client runtime, for the preview host and the unit tests.
 * It provides the members of `@inductiveautomation/perspective-client` our bundle uses
 * (Component, ComponentRegistry, ComponentStoreDelegate) plus `mountComponent`, which plays the
 * part of a Perspective view: a props tree, emit(), componentEvents, the delegate and re-render on
 * prop changes. Built to dist/perspective-stand-in.js as the global `PerspectiveClient`.
 * It is NOT Perspective: docs/component.md lists what only a real session can verify.
 */
import * as React from 'react';
import { createRoot } from 'react-dom/client';
import type {
  AbstractUIElementStore,
  ComponentEvents,
  ComponentMeta,
  ComponentProps,
  ComponentStore,
  EmitProps,
  JsObject,
  PlainObject,
} from '@inductiveautomation/perspective-client';
import { StandInPropertyTree } from './property-tree.ts';

export { StandInPropertyTree } from './property-tree.ts';

export class Component<
  P extends ComponentProps<PlainObject>,
  S extends PlainObject = PlainObject,
> extends React.Component<P, S> {}

const registry = new Map<string, ComponentMeta>();

export const ComponentRegistry = {
  register(meta: ComponentMeta): void {
    registry.set(meta.getComponentType(), meta);
  },
  getMeta(componentType: string): ComponentMeta | undefined {
    return registry.get(componentType);
  },
};

/** What the stand-in "gateway" receives from fireEvent; tests and the preview install one. */
export type GatewayHandler = (
  eventName: string,
  payload: JsObject,
  reply: (name: string, payload: JsObject) => void,
) => void;

interface StandInStore extends AbstractUIElementStore {
  __gateway?: GatewayHandler;
}

export abstract class ComponentStoreDelegate {
  readonly #component: StandInStore;
  readonly #subscribers = new Set<() => void>();

  constructor(component: AbstractUIElementStore) {
    this.#component = component as StandInStore;
  }

  subscribe(listener: () => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }

  protected notify(): void {
    for (const s of this.#subscribers) s();
  }

  mapStateToProps(): PlainObject | undefined {
    return undefined;
  }

  /** Sends to the gateway; the stand-in answers asynchronously, like the websocket would. */
  fireEvent(eventName: string, eventObject: JsObject): void {
    const gateway = this.#component.__gateway;
    const payload = JSON.parse(JSON.stringify(eventObject)) as JsObject;
    if (gateway) setTimeout(() => gateway(eventName, payload, (n, p) => this.handleEvent(n, p)), 0);
  }

  abstract handleEvent(eventName: string, eventObject: JsObject): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface FiredEvent {
  readonly name: string;
  readonly event: PlainObject;
}

export interface MountOptions {
  readonly props: PlainObject;
  readonly eventsEnabled?: boolean;
  readonly gateway?: GatewayHandler;
  onComponentEvent?(event: FiredEvent): void;
}

export interface MountedComponent {
  readonly props: StandInPropertyTree;
  readonly events: FiredEvent[];
  setEventsEnabled(enabled: boolean): void;
  unmount(): void;
}

/** Renders a registered component into `element` the way a Perspective view would. */
export function mountComponent(
  componentType: string,
  element: HTMLElement,
  options: MountOptions,
): MountedComponent {
  const meta = registry.get(componentType);
  if (!meta) throw new Error(`component type '${componentType}' is not registered`);
  const tree = new StandInPropertyTree(options.props);
  const events: FiredEvent[] = [];
  const componentEvents: ComponentEvents = {
    fireComponentEvent(name: string, event: PlainObject) {
      const fired = { name, event: JSON.parse(JSON.stringify(event)) as PlainObject };
      events.push(fired);
      options.onComponentEvent?.(fired);
    },
  };
  const store: Mutable<ComponentStore> & StandInStore = {
    props: tree,
    meta: new StandInPropertyTree({ name: 'AiRecommendations' }),
    componentEvents,
    addressPathString: '0',
    get element(): Element {
      return element.firstElementChild ?? element;
    },
  };
  if (options.gateway) store.__gateway = options.gateway;
  store.delegate = meta.createDelegate?.(store);
  let eventsEnabled = options.eventsEnabled ?? true;
  const emit = (p: EmitProps = {}): Record<string, unknown> => ({
    className: (p.classes ?? []).join(' '),
    style: { width: '100%', height: '100%', ...(p.style ?? {}) },
    'data-component': componentType,
  });
  const root = createRoot(element);
  const render = (): void => {
    const View = meta.getViewComponent() as React.FunctionComponent<ComponentProps<PlainObject>>;
    const reduced = meta.getPropsReducer ? meta.getPropsReducer(tree) : tree.toPlainObject();
    root.render(
      React.createElement(View, {
        props: reduced,
        emit,
        store,
        componentEvents,
        eventsEnabled,
        meta: { name: 'AiRecommendations' },
      }),
    );
  };
  const off = tree.subscribe(render);
  render();
  return {
    props: tree,
    events,
    setEventsEnabled(enabled: boolean) {
      eventsEnabled = enabled;
      render();
    },
    unmount() {
      off();
      root.unmount();
    },
  };
}
