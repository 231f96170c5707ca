/**
 * TagWriter for sources that cannot be written (a CSV replay): reads answer from the live values
 * the source reported, and every write is refused with the reason, so an approval of a
 * recommendation with an action ends as `failed` with an explanation, never as a silent no-op.
 */
import type { TagWriter, WriteOutcome } from '../ports.ts';

export class ReadOnlyTagWriter implements TagWriter {
  readonly #why: string;
  readonly #live = new Map<string, number>();

  constructor(why: string) {
    this.#why = why;
  }

  /** Records a live value reported by the source (setpoint tags). */
  observe(tagPath: string, value: number): void {
    this.#live.set(tagPath, value);
  }

  async read(tagPath: string): Promise<number | undefined> {
    return this.#live.get(tagPath);
  }

  async write(tagPath: string): Promise<WriteOutcome> {
    return {
      ok: false,
      reason: `'${tagPath}' cannot be written: ${this.#why}`,
      statusCode: 'BadNotWritable',
    };
  }
}
