/**
 * Typed declaration of the part of `@inductiveautomation/perspective-client` this bundle uses.
 * The package is not on the public npm registry; at runtime Perspective provides it as the
 * global `PerspectiveClient` (webpack maps the import to that global). Shapes follow
 * ../shared/docs/ignition-sdk-notes.md §2; keep the module name exact so the code works unchanged
 * against the real typings.
 */
declare module '@inductiveautomation/perspective-client' {
  import type * as React from 'react';

  export type PlainObject = Record<string, unknown>;
  export type JsObject = Record<string, unknown>;

  export interface SizeObject {
    width: number;
    height: number;
  }

  export interface EmitProps {
    style?: React.CSSProperties;
    classes?: string[];
  }

  /** Spread its result on the component's root element (layout style, classes, events, ref). */
  export type Emitter = (
    emitProps?: EmitProps,
    layoutStyleOnly?: boolean,
    disableEvents?: boolean,
    noLayoutStyle?: boolean,
  ) => Record<string, unknown>;

  /** Browser-side property tree: reads, writes and change subscription (no MobX since 8.1). */
  export interface PropertyTree {
    read(path?: string, defaultValue?: unknown): unknown;
    readString(path: string, def?: string): string;
    readNumber(path: string, def: number): number;
    readBoolean(path: string, def?: boolean): boolean;
    readArray(path: string, def?: unknown[]): unknown[];
    readObject<T extends PlainObject = PlainObject>(path: string, defObj?: T): T;
    readStyle(path?: string): React.CSSProperties;
    write(path: string, value: unknown): void;
    subscribe(listener: (tree: PropertyTree) => void): () => void;
    toPlainObject(): PlainObject;
  }

  export interface ComponentEvents {
    fireComponentEvent(eventName: string, eventObject: PlainObject): void;
    runClientActions?(type: string, name: string, eventObject: PlainObject): void;
  }

  export interface AbstractUIElementStore {
    readonly addressPathString?: string;
    onEventFired?(type: string, name: string, event: JsObject): void;
  }

  export interface ComponentStore extends AbstractUIElementStore {
    readonly props: PropertyTree;
    readonly meta: PropertyTree;
    readonly delegate?: ComponentStoreDelegate;
    readonly element: Element | void;
    readonly componentEvents: ComponentEvents;
  }

  export interface MetaObject {
    name: string;
    [key: string]: unknown;
  }

  export interface ComponentProps<P extends PlainObject = PlainObject, D extends PlainObject = PlainObject> {
    props: P;
    emit: Emitter;
    store: ComponentStore;
    delegate?: D;
    componentEvents: ComponentEvents;
    eventsEnabled: boolean;
    meta: MetaObject;
  }

  /** Perspective's component base class (not React.Component itself, but extends it). */
  export class Component<
    P extends ComponentProps<PlainObject>,
    S extends PlainObject = PlainObject,
  > extends React.Component<P, S> {}

  export type PComponent =
    React.ComponentClass<ComponentProps<PlainObject>> | React.FunctionComponent<ComponentProps<PlainObject>>;

  export interface ComponentMeta {
    getComponentType(): string;
    getViewComponent(): PComponent;
    getDefaultSize(): SizeObject;
    getPropsReducer?(tree: PropertyTree): PlainObject;
    createDelegate?(component: AbstractUIElementStore): ComponentStoreDelegate | undefined;
  }

  /** Named-JSON-event channel to the gateway's ComponentModelDelegate over the session websocket. */
  export abstract class ComponentStoreDelegate {
    constructor(component: AbstractUIElementStore);
    protected notify(): void;
    mapStateToProps(): PlainObject | undefined;
    fireEvent(eventName: string, eventObject: JsObject): void;
    abstract handleEvent(eventName: string, eventObject: JsObject): void;
  }

  export class ComponentRegistry {
    static register(component: ComponentMeta): void;
    static getMeta(componentType: string): ComponentMeta | undefined;
  }
}
