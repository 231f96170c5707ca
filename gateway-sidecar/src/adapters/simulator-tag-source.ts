/**
 * TagSource over the in-process plant simulator (domain/plant-simulator.ts). Simulated time runs
 * at `speed` simulated seconds per real second, or as fast as the consumer accepts batches
 * (`speed: 'max'`, for tests and the bench). Events carry simulated time as both source and
 * received timestamp: the simulator is its own time base, so a fast run is not "in the future".
 *
 * The same PlantSimulator instance is shared with SimulatorTagWriter, so setpoint writes change
 * what the source reports from the next tick on; tests and the demo reach the simulator through
 * `plant` to inject faults and read ground truth.
 */
import type { TagEvent } from '../domain/tag-event.ts';
import { PlantSimulator } from '../domain/plant-simulator.ts';
import type { SourceState, TagSource } from '../ports.ts';

export interface SimulatorTagSourceOptions {
  readonly seed: number;
  /** Simulated ms between samples. */
  readonly tickMs: number;
  readonly faultEveryMinutes: number;
  /** Simulated seconds per real second, or 'max' to run as fast as batches are accepted. */
  readonly speed: number | 'max';
  /** Simulated epoch ms the run starts at (default: real time at construction). */
  readonly startMs?: number;
  /** Stop after this many ticks and report 'finished' (default: run until stop()). */
  readonly maxTicks?: number;
  /** Ticks per delivered batch (default 1; the bench uses more). */
  readonly ticksPerBatch?: number;
}

export class SimulatorTagSource implements TagSource {
  readonly name = 'simulator';
  /** The simulated plant: inject faults, read ground truth, share with the writer. */
  readonly plant: PlantSimulator;
  readonly #opts: SimulatorTagSourceOptions;
  #state: SourceState = 'stopped';
  readonly #listeners: ((state: SourceState, detail?: string) => void)[] = [];
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;

  constructor(opts: SimulatorTagSourceOptions) {
    if (opts.speed !== 'max' && !(opts.speed > 0))
      throw new Error(`speed must be positive or 'max', got ${String(opts.speed)}`);
    this.#opts = opts;
    this.plant = new PlantSimulator({
      seed: opts.seed,
      tickMs: opts.tickMs,
      faultEveryMinutes: opts.faultEveryMinutes,
      startMs: opts.startMs ?? Date.now(),
    });
  }

  state(): SourceState {
    return this.#state;
  }

  onStateChange(listener: (state: SourceState, detail?: string) => void): void {
    this.#listeners.push(listener);
  }

  rejectedCounts(): Readonly<Record<string, number>> {
    return {};
  }

  /** Ticks delivered so far. */
  get ticks(): number {
    return this.#ticks;
  }

  async start(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void> {
    if (this.#running) throw new Error('simulator source already started');
    this.#running = true;
    this.#setState('connected');
    this.#loop = this.#run(onEvents).catch((err: unknown) => {
      this.#running = false;
      this.#setState('stopped', `consumer failed: ${(err as Error).message}`);
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.();
    await this.#loop;
    if (this.#state !== 'finished') this.#setState('stopped');
  }

  async #run(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void> {
    const perBatch = Math.max(1, this.#opts.ticksPerBatch ?? 1);
    const realStart = Date.now();
    const simStart = this.plant.nowMs;
    while (this.#running) {
      const batch: TagEvent[] = [];
      for (let i = 0; i < perBatch && !this.#isDone(); i++) {
        for (const s of this.plant.step()) {
          batch.push({
            tagPath: s.tagPath,
            value: s.value,
            quality: 'good',
            sourceTimestampMs: s.timestampMs,
            receivedTimestampMs: s.timestampMs,
          });
        }
        this.#ticks++;
      }
      if (batch.length > 0) await onEvents(batch);
      if (this.#isDone()) {
        this.#running = false;
        this.#setState('finished');
        return;
      }
      if (this.#opts.speed === 'max') {
        // Let timers and I/O (a stop(), a setpoint write) run between batches.
        await new Promise<void>((r) => setImmediate(r));
      } else {
        const dueReal = realStart + (this.plant.nowMs - simStart) / this.#opts.speed;
        await this.#sleep(Math.max(0, dueReal - Date.now()));
      }
    }
  }

  #isDone(): boolean {
    return this.#opts.maxTicks !== undefined && this.#ticks >= this.#opts.maxTicks;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }

  #setState(state: SourceState, detail?: string): void {
    this.#state = state;
    for (const l of this.#listeners) l(state, detail);
  }
}
