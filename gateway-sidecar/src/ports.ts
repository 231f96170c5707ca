/**
 * The interfaces the application needs from the outside world (STYLE.md §2). Adapters implement
 * them; `app/` receives them as parameters; `main.ts` wires them. Each port stays small: only the
 * methods one use case needs. Areas add their ports here with TSDoc on every method.
 */
import type { TagEvent } from './domain/tag-event.ts';

/** Time, injected so tests control it. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Connection state a source reports for /health and the UI. */
export type SourceState = 'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'finished';

/**
 * A stream of tag changes (event-driven: the source pushes, nobody polls).
 * `start` resolves once the source is subscribed; events arrive through `onEvents` in batches, and
 * the source waits for the returned promise before delivering the next batch (backpressure).
 */
export interface TagSource {
  readonly name: string;
  start(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void>;
  stop(): Promise<void>;
  state(): SourceState;
  /** Called with every state change (reconnecting, connected…); optional. */
  onStateChange?(listener: (state: SourceState, detail?: string) => void): void;
  /**
   * Counts of input the source itself could not turn into events (undecodable payload, bad CSV
   * line…), by reason; optional. Event-level problems are counted later by the EventValidator.
   */
  rejectedCounts?(): Readonly<Record<string, number>>;
}

/** Result of one setpoint write, after read-back. */
export type WriteOutcome =
  | { readonly ok: true; readonly readBack: number; readonly previous: number | undefined }
  | { readonly ok: false; readonly reason: string; readonly statusCode?: string };

/**
 * Writes a setpoint on a real tag. Implementations write, then read back and compare.
 * Only the setpoint-write use case calls this, and only with an approved, bounds-checked write.
 */
export interface TagWriter {
  /** Reads the live value of a tag (used for range/step checks before writing). */
  read(tagPath: string): Promise<number | undefined>;
  /** Writes `value` and reads it back; never throws for a refused write, returns ok:false with the reason. */
  write(tagPath: string, value: number): Promise<WriteOutcome>;
}
