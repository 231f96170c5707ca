/**
 * Seeded randomness for the plant simulator. The simulator must be replayable from its seed
 * (tests and demos rely on the same fault at the same simulated minute), so it never touches
 * Math.random: every draw comes from this generator.
 */

/** A small deterministic generator (mulberry32): uniform in [0, 1) plus a standard normal. */
export class SeededRandom {
  #state: number;
  #spareNormal: number | undefined;

  /** @param seed any integer; the same seed always gives the same sequence. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform draw in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal draw (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.#spareNormal !== undefined) {
      const v = this.#spareNormal;
      this.#spareNormal = undefined;
      return v;
    }
    // 1 - next() keeps u1 in (0, 1] so the log is finite.
    const u1 = 1 - this.next();
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.#spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
