/**
 * TagWriter for the simulated plant. It enforces only physical sanity (a setpoint the plant can
 * take at all); operating limits, step size and approval are checked upstream before any write.
 * The read-back is the simulator's own setpoint value, as a real PLC would report it.
 */
import type { PlantSimulator } from '../domain/plant-simulator.ts';
import type { TagWriter, WriteOutcome } from '../ports.ts';

export class SimulatorTagWriter implements TagWriter {
  readonly #plant: PlantSimulator;

  constructor(plant: PlantSimulator) {
    this.#plant = plant;
  }

  async read(tagPath: string): Promise<number | undefined> {
    const v = this.#plant.readTag(tagPath);
    return typeof v === 'number' ? v : undefined;
  }

  async write(tagPath: string, value: number): Promise<WriteOutcome> {
    const previous = await this.read(tagPath);
    const problem = this.#plant.setSetpoint(tagPath, value);
    if (problem !== undefined) {
      return {
        ok: false,
        reason: problem,
        statusCode: this.#plant.isSetpoint(tagPath) ? 'BadOutOfRange' : 'BadNotWritable',
      };
    }
    const readBack = await this.read(tagPath);
    if (readBack === undefined || readBack !== value) {
      return { ok: false, reason: `read-back of '${tagPath}' gave ${String(readBack)}, expected ${value}` };
    }
    return { ok: true, readBack, previous };
  }
}
