/** Plain-object property tree with Perspective's path syntax (`a.b`, `arr[0].x`) and subscribe. */
import type { PlainObject, PropertyTree } from '@inductiveautomation/perspective-client';
import type * as React from 'react';

function parsePath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g))
    parts.push(m[2] !== undefined ? Number(m[2]) : (m[1] as string));
  return parts;
}

export class StandInPropertyTree implements PropertyTree {
  #value: PlainObject;
  readonly #listeners = new Set<(tree: PropertyTree) => void>();

  constructor(initial: PlainObject) {
    this.#value = JSON.parse(JSON.stringify(initial)) as PlainObject;
  }

  read(path?: string, defaultValue?: unknown): unknown {
    if (!path) return this.#value;
    let node: unknown = this.#value;
    for (const part of parsePath(path)) {
      if (node === null || typeof node !== 'object') return defaultValue;
      node = (node as Record<string | number, unknown>)[part];
    }
    return node === undefined ? defaultValue : node;
  }
  readString(path: string, def = ''): string {
    const v = this.read(path);
    return typeof v === 'string' ? v : def;
  }
  readNumber(path: string, def: number): number {
    const v = this.read(path);
    return typeof v === 'number' ? v : def;
  }
  readBoolean(path: string, def = false): boolean {
    const v = this.read(path);
    return typeof v === 'boolean' ? v : def;
  }
  readArray(path: string, def: unknown[] = []): unknown[] {
    const v = this.read(path);
    return Array.isArray(v) ? v : def;
  }
  readObject<T extends PlainObject = PlainObject>(path: string, defObj?: T): T {
    const v = this.read(path);
    return (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : (defObj ?? {})) as T;
  }
  readStyle(path = 'style'): React.CSSProperties {
    return this.readObject(path) as React.CSSProperties;
  }

  write(path: string, value: unknown): void {
    const parts = parsePath(path);
    const next = JSON.parse(JSON.stringify(this.#value)) as PlainObject;
    let node = next as Record<string | number, unknown>;
    parts.slice(0, -1).forEach((part, i) => {
      if (node[part] === null || typeof node[part] !== 'object')
        node[part] = typeof parts[i + 1] === 'number' ? [] : {};
      node = node[part] as Record<string | number, unknown>;
    });
    const last = parts[parts.length - 1];
    if (last === undefined) return;
    node[last] = value === undefined ? undefined : JSON.parse(JSON.stringify(value));
    this.#value = next;
    for (const l of this.#listeners) l(this);
  }

  subscribe(listener: (tree: PropertyTree) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  toPlainObject(): PlainObject {
    return JSON.parse(JSON.stringify(this.#value)) as PlainObject;
  }
}
