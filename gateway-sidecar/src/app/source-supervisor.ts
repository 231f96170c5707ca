/**
 * Starts the ingest pipeline's source in the background and keeps trying until it is subscribed,
 * so the HTTP API, /health and /metrics never wait for the plant connection (an OPC UA server that
 * is down at boot, a broker not yet up). Each failed start is logged and remembered; /health shows
 * the source as not connected with that last error until a start succeeds. Once started, the
 * source's own reconnection takes over (its state changes and their details are remembered too).
 */
import type { Logger } from '../log.ts';
import type { SourceState, TagSource } from '../ports.ts';

export interface SourceSupervisorDeps {
  readonly source: TagSource;
  /** Starts the pipeline (checkpoint load, then source subscription); rejects if it cannot. */
  readonly start: () => Promise<void>;
  /** Stops the pipeline (source first, then the batch in flight). */
  readonly stop: () => Promise<void>;
  readonly logger: Logger;
  /** Delay before the first retry and the largest delay between retries. */
  readonly retryMs: { readonly first: number; readonly max: number };
}

export interface SourceStatus {
  /** True once a start has succeeded (the source may be reconnecting since). */
  readonly started: boolean;
  /** The source's own state; 'connecting' while start attempts are being retried. */
  readonly state: SourceState;
  /** Failed start attempts so far. */
  readonly failedAttempts: number;
  /** The last start error, or the detail of the last state change while not connected. */
  readonly lastError: string | undefined;
}

export class SourceSupervisor {
  readonly #d: SourceSupervisorDeps;
  readonly #log: Logger;
  #started = false;
  #stopping = false;
  #failedAttempts = 0;
  #lastError: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();

  constructor(deps: SourceSupervisorDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'source-supervisor', source: deps.source.name });
    deps.source.onStateChange?.((state, detail) => {
      if (state !== 'connected' && state !== 'finished' && detail !== undefined) this.#lastError = detail;
    });
  }

  /** Begins the start attempts; returns at once. */
  begin(): void {
    this.#loop = this.#run();
  }

  status(): SourceStatus {
    const own = this.#d.source.state();
    return {
      started: this.#started,
      // Between attempts the source itself says 'stopped'; it is not: it is being connected.
      state: !this.#started && !this.#stopping ? 'connecting' : own,
      failedAttempts: this.#failedAttempts,
      lastError: this.#lastError,
    };
  }

  /** Ends the retries, then stops the pipeline (an attempt in flight is cut short by that). */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake?.();
    await this.#d.stop();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let delay = this.#d.retryMs.first;
    while (!this.#stopping) {
      try {
        await this.#d.start();
        if (this.#stopping) return;
        this.#started = true;
        if (this.#failedAttempts > 0)
          this.#log.info({ failedAttempts: this.#failedAttempts }, 'source started after retries');
        return;
      } catch (err) {
        if (this.#stopping) return;
        this.#failedAttempts++;
        this.#lastError = (err as Error).message;
        this.#log.warn(
          { err, attempt: this.#failedAttempts, retryInMs: delay },
          'source not started; retrying in the background (the HTTP API is up)',
        );
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, delay);
      });
      this.#wake = undefined;
      this.#timer = undefined;
      delay = Math.min(this.#d.retryMs.max, delay * 2);
    }
  }
}
