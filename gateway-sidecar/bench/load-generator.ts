/**
 * The load generator the e2e bench and the soak share: seeded plant events at a fixed wall-clock
 * rate, whole simulator ticks per batch, stamped with the wall clock, handed to the pipeline one
 * batch at a time (the next batch waits for the previous one, as with a real source's queue). If the
 * pipeline falls behind, the backlog stays here and shows as `behindS()`, never as unbounded batches.
 *
 * It also accounts for its own time, so a run can tell which side is the bottleneck: `generateMs`
 * (building batches: the generator's cost), `pipelineMs` (awaiting the pipeline with a batch) and
 * `idleMs` (waiting for the next events to become due). A generator that is the bottleneck shows a
 * large `generateMs`; a saturated pipeline shows `pipelineMs` near the wall time and `idleMs` near 0.
 */
import type { PlantSimulator } from '../src/domain/plant-simulator.ts';
import type { TagEvent } from '../src/domain/tag-event.ts';
import type { SourceState, TagSource } from '../src/ports.ts';

export interface LoadOptions {
  readonly name: string;
  readonly plant: PlantSimulator;
  readonly eventsPerSecond: number;
  /** Stop after this long (default: run until `stop()`). */
  readonly durationMs?: number;
  /** Largest batch handed over at once (default: everything due). */
  readonly maxBatch?: number;
  /**
   * `tick`: one distinct millisecond per simulator tick (event ids are tag + source time, so equal
   * stamps would collapse rows and hide losses: the soak's exact count needs this). `now`: every
   * event of a batch carries the hand-over time (latency benches measure from it).
   */
  readonly sourceTime: 'tick' | 'now';
  /** Every `every` ticks, `tagPath` reads `value` instead of the plant's value (critical bypass load). */
  readonly emergency?: { readonly tagPath: string; readonly every: number; readonly value: number };
  /** Sleep between checks when nothing is due (default 1 ms). */
  readonly idleSleepMs?: number;
}

export interface LoadStats {
  readonly delivered: number;
  readonly batches: number;
  readonly emergencies: number;
  readonly generateMs: number;
  readonly pipelineMs: number;
  readonly idleMs: number;
  readonly elapsedMs: number;
}

export class PacedPlantSource implements TagSource {
  readonly name: string;
  readonly #o: LoadOptions;
  #state: SourceState = 'stopped';
  #running = false;
  #loop: Promise<void> | undefined;
  #t0 = 0;
  #lastTs = 0;
  #tick = 0;
  delivered = 0;
  batches = 0;
  emergencies = 0;
  generateMs = 0;
  pipelineMs = 0;
  idleMs = 0;

  constructor(options: LoadOptions) {
    if (!(options.eventsPerSecond > 0))
      throw new RangeError(`eventsPerSecond must be > 0, got ${options.eventsPerSecond}`);
    this.name = options.name;
    this.#o = options;
  }

  state(): SourceState {
    return this.#state;
  }

  async start(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void> {
    this.#running = true;
    this.#state = 'connected';
    this.#loop = this.#run(onEvents);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** Resolves when the run's duration is over (or it was stopped). */
  done(): Promise<void> {
    return this.#loop ?? Promise.resolve();
  }

  /** Seconds of offered load not yet handed over (0 when keeping up). */
  behindS(nowMs = Date.now()): number {
    if (this.#t0 === 0) return 0;
    return Math.max(0, (nowMs - this.#t0) / 1000 - this.delivered / this.#o.eventsPerSecond);
  }

  stats(): LoadStats {
    return {
      delivered: this.delivered,
      batches: this.batches,
      emergencies: this.emergencies,
      generateMs: Math.round(this.generateMs),
      pipelineMs: Math.round(this.pipelineMs),
      idleMs: Math.round(this.idleMs),
      elapsedMs: this.#t0 === 0 ? 0 : Date.now() - this.#t0,
    };
  }

  async #run(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void> {
    const o = this.#o;
    const t0 = Date.now();
    this.#t0 = t0;
    let last = 0;
    while (this.#running && (o.durationMs === undefined || Date.now() - t0 < o.durationMs)) {
      const now = Math.max(Date.now(), last + 1);
      last = now;
      const due = Math.floor(((now - t0) / 1000) * o.eventsPerSecond) - this.delivered;
      if (due <= 0) {
        const idle = performance.now();
        await new Promise((r) => setTimeout(r, o.idleSleepMs ?? 1));
        this.idleMs += performance.now() - idle;
        continue;
      }
      const g = performance.now();
      const want = Math.min(due, o.maxBatch ?? Number.POSITIVE_INFINITY);
      const batch: TagEvent[] = [];
      while (batch.length < want) {
        this.#tick++;
        const ts = o.sourceTime === 'tick' ? (this.#lastTs = Math.max(now, this.#lastTs + 1)) : now;
        for (const s of o.plant.step()) {
          const emergency =
            o.emergency !== undefined &&
            s.tagPath === o.emergency.tagPath &&
            this.#tick % o.emergency.every === 0;
          if (emergency) this.emergencies++;
          batch.push({
            tagPath: s.tagPath,
            value: emergency ? (o.emergency?.value as number) : s.value,
            quality: 'good',
            sourceTimestampMs: ts,
            receivedTimestampMs: now,
          });
        }
      }
      this.delivered += batch.length;
      this.batches++;
      const p = performance.now();
      this.generateMs += p - g;
      await onEvents(batch);
      this.pipelineMs += performance.now() - p;
    }
    this.#state = 'finished';
  }
}
