/**
 * The simulation's only source of randomness: a small, fast, seeded PRNG
 * (SplitMix32 to spread the seed, then Mulberry32). The same seed gives the
 * same stream on every machine and Node version, which is what makes a run
 * replayable from its seed.
 */

/** A seeded stream of numbers. Every draw of a run comes from one of these. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    // SplitMix32 finalizer: neighbouring seeds start far apart.
    let z = (seed + 0x9e3779b9) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.state = (z ^ (z >>> 16)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A duration in [min, max] ms, skewed towards `min` (most calls are fast, a few are slow). */
  latency(min: number, max: number): number {
    const u = this.next();
    return Math.round(min + (max - min) * u * u * u);
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A new independent stream derived from this one (so adding draws to one part does not shift another). */
  fork(): Prng {
    return new Prng(Math.floor(this.next() * 2 ** 31));
  }
}
