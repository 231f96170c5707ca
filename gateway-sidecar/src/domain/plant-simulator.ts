/**
 * The demo plant as one deterministic state machine: `step()` advances simulated time by one tick
 * and returns every tag's sample. Setpoint writes and injected faults take effect at the next
 * step. The same seed, tick, schedule and sequence of writes always give the same samples, which
 * is what makes detection tests and the demo reproducible. Pure: no clock, no timers, no I/O.
 */
import {
  applySensorFaults,
  createFault,
  pickScheduledFault,
  processLoad,
  type ActiveFault,
  type FaultSpec,
} from './plant-faults.ts';
import {
  initialPhysicsState,
  PLANT_MODE_TAGS,
  PLANT_SENSORS,
  PLANT_SETPOINTS,
  stepPhysics,
  type PhysicsState,
} from './plant-model.ts';
import { SeededRandom } from './plant-random.ts';

export interface PlantSimulatorOptions {
  readonly seed: number;
  /** Simulated ms between samples. */
  readonly tickMs: number;
  /** Simulated epoch ms of the first sample's predecessor (the first step() reports startMs + tickMs). */
  readonly startMs: number;
  /** Schedule a seeded random fault every N simulated minutes; 0 disables the schedule. */
  readonly faultEveryMinutes: number;
}

/** One tag value at one simulated instant. */
export interface PlantSample {
  readonly tagPath: string;
  readonly value: number | string;
  readonly timestampMs: number;
}

/** What really happened, for tests and demo scoring: faults and the uncorrupted process values. */
export interface PlantGroundTruth {
  readonly nowMs: number;
  readonly activeFaults: readonly ActiveFault[];
  /** Process value of every sensor before sensor faults (with measurement noise). */
  readonly processValues: ReadonlyMap<string, number>;
  readonly coolingHealth: number;
}

export class PlantSimulator {
  readonly #opts: PlantSimulatorOptions;
  readonly #rng: SeededRandom;
  /** A second stream for the schedule, so injecting a fault by hand does not shift the noise. */
  readonly #scheduleRng: SeededRandom;
  readonly #setpoints = new Map<string, number>();
  readonly #physics: PhysicsState;
  #nowMs: number;
  #nextFaultId = 1;
  #nextScheduledMs: number;
  #active: ActiveFault[] = [];
  readonly #log: ActiveFault[] = [];
  #measured = new Map<string, number>();
  #process = new Map<string, number>();
  #coolingHealth = 1;

  constructor(opts: PlantSimulatorOptions) {
    if (!(opts.tickMs > 0)) throw new Error(`tickMs must be positive, got ${opts.tickMs}`);
    if (!(opts.faultEveryMinutes >= 0))
      throw new Error(`faultEveryMinutes must be >= 0, got ${opts.faultEveryMinutes}`);
    this.#opts = opts;
    this.#rng = new SeededRandom(opts.seed);
    this.#scheduleRng = new SeededRandom(opts.seed ^ 0x5bd1e995);
    for (const [tag, s] of PLANT_SETPOINTS) this.#setpoints.set(tag, s.initial);
    this.#physics = initialPhysicsState(this.#setpoints);
    this.#nowMs = opts.startMs;
    this.#nextScheduledMs =
      opts.faultEveryMinutes > 0 ? opts.startMs + opts.faultEveryMinutes * 60_000 : Number.POSITIVE_INFINITY;
  }

  /** Simulated epoch ms of the last step. */
  get nowMs(): number {
    return this.#nowMs;
  }

  /** Every tag the simulator reports: sensors, setpoints and mode tags. */
  tagPaths(): string[] {
    return [...PLANT_SENSORS.keys(), ...PLANT_SETPOINTS.keys(), ...PLANT_MODE_TAGS];
  }

  /** Advances one tick and returns one sample per tag, all stamped with the new simulated time. */
  step(): PlantSample[] {
    this.#nowMs += this.#opts.tickMs;
    const now = this.#nowMs;
    this.#active = this.#active.filter((f) => f.endMs > now - this.#opts.tickMs);
    while (now >= this.#nextScheduledMs) {
      const spec = pickScheduledFault(this.#scheduleRng, this.#active);
      if (spec) this.injectFault(spec);
      this.#nextScheduledMs += this.#opts.faultEveryMinutes * 60_000;
    }
    const load = processLoad(this.#active, now);
    this.#coolingHealth = load.coolingHealth;
    this.#process = stepPhysics(this.#physics, this.#setpoints, load, this.#opts.tickMs / 1000, this.#rng);
    this.#measured = new Map(this.#process);
    applySensorFaults(this.#active, this.#measured);
    // Spikes last exactly one sample whatever the tick length.
    this.#active = this.#active.filter((f) => f.kind !== 'spike');
    const out: PlantSample[] = [];
    for (const [tagPath, value] of this.#measured) out.push({ tagPath, value, timestampMs: now });
    for (const [tagPath, value] of this.#setpoints) out.push({ tagPath, value, timestampMs: now });
    for (const tagPath of PLANT_MODE_TAGS) out.push({ tagPath, value: 'RUN', timestampMs: now });
    return out;
  }

  /** Injects a fault starting now (validated; throws an Error naming a bad kind, equipment or tag). */
  injectFault(spec: FaultSpec): ActiveFault {
    const fault = createFault(spec, this.#nextFaultId++, this.#nowMs);
    this.#active.push(fault);
    this.#log.push(fault);
    return fault;
  }

  /** Ends a fault now (maintenance done). Returns false when no such fault is active. */
  clearFault(id: number): boolean {
    const before = this.#active.length;
    this.#active = this.#active.filter((f) => f.id !== id);
    return this.#active.length < before;
  }

  activeFaults(): readonly ActiveFault[] {
    return [...this.#active];
  }

  /** Every fault injected so far (scheduled or by hand), in order. */
  faultLog(): readonly ActiveFault[] {
    return [...this.#log];
  }

  /** Whether `tagPath` is a setpoint the simulator accepts writes for. */
  isSetpoint(tagPath: string): boolean {
    return PLANT_SETPOINTS.has(tagPath);
  }

  /**
   * Sets a setpoint (effective from the next step). Returns an error message instead of throwing
   * for an unknown tag or a physically impossible value; operating limits are checked upstream.
   */
  setSetpoint(tagPath: string, value: number): string | undefined {
    const spec = PLANT_SETPOINTS.get(tagPath);
    if (!spec) return `tag '${tagPath}' is not a writable setpoint of the simulated plant`;
    if (!Number.isFinite(value) || value < spec.low || value > spec.high) {
      return `value ${value} for '${tagPath}' is outside the physical range [${spec.low}, ${spec.high}]`;
    }
    this.#setpoints.set(tagPath, value);
    return undefined;
  }

  /** The current value of any tag as last reported (setpoints: the current setpoint). */
  readTag(tagPath: string): number | string | undefined {
    if (this.#setpoints.has(tagPath)) return this.#setpoints.get(tagPath);
    if (PLANT_MODE_TAGS.includes(tagPath)) return 'RUN';
    return this.#measured.get(tagPath);
  }

  groundTruth(): PlantGroundTruth {
    return {
      nowMs: this.#nowMs,
      activeFaults: this.activeFaults(),
      processValues: new Map(this.#process),
      coolingHealth: this.#coolingHealth,
    };
  }
}
