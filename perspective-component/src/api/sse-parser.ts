/**
 * Incremental Server-Sent Events parser (WHATWG "event stream interpretation"). Fed text chunks
 * as they arrive from a streaming fetch; yields complete events. Kept pure so it is tested alone.
 */
export interface SseEvent {
  readonly id: string | null;
  readonly event: string;
  readonly data: string;
}

export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | null = null;
  #hasData = false;
  /** Reconnection delay the server asked for with `retry:`, if any. */
  retryMs: number | null = null;
  /** Last id seen on the stream; persists across events as the spec requires. */
  lastEventId: string | null = null;

  /** Feeds one chunk; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    this.#buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (!match) break;
      // A lone '\r' at the very end may be the first half of '\r\n': wait for more input.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const ev = this.#line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  #line(line: string): SseEvent | null {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        this.#hasData = true;
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored by the spec
    }
    return null;
  }

  #dispatch(): SseEvent | null {
    if (this.#id !== null) this.lastEventId = this.#id;
    const ev: SseEvent | null = this.#hasData
      ? { id: this.lastEventId, event: this.#event || 'message', data: this.#data.join('\n') }
      : null;
    this.#data = [];
    this.#event = '';
    this.#id = null;
    this.#hasData = false;
    return ev;
  }
}
