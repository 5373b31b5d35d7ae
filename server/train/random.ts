/**
 * The seeded generator of server/seeded-random.ts (mulberry32, the same stream for a seed) with
 * its state in the open, so a checkpoint can store where a stream is and a resumed run continue
 * it. Reproducible randomness only: DP noise and sampling use server/privacy/dp/rng.ts.
 */
export class SeededStream {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  static fromState(state: number): SeededStream {
    if (!(Number.isInteger(state) && state >= 0 && state <= 0xffffffff)) {
      throw new RangeError(`a seeded stream's state is a 32-bit unsigned integer, got ${state}`);
    }
    const stream = new SeededStream(0);
    stream.state = state;
    return stream;
  }

  /** Uniform on [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A 32-bit seed for a tfjs random op (dropout masks). */
  nextSeed(): number {
    return Math.floor(this.next() * 4294967296);
  }

  get position(): number {
    return this.state;
  }
}
