/**
 * Randomness for DP-SGD. Noise and sampling must be unpredictable to whoever sees the model, so
 * production uses crypto random bytes; a seeded generator exists for reproducible tests only.
 */
import { randomFillSync } from 'node:crypto';

export interface Rng {
  /** Uniform in [0, 1), 53 random bits. */
  next(): number;
}

const TWO_POW_53 = 2 ** 53;

/** 53-bit double from two 32-bit words. */
function toUnit(high: number, low: number): number {
  return ((high >>> 5) * 2 ** 26 + (low >>> 6)) / TWO_POW_53;
}

/** Uniforms from the operating system's CSPRNG, read in 64 KiB blocks. */
export function secureRng(): Rng {
  const words = new Uint32Array(16_384);
  let index = words.length;
  return {
    next() {
      if (index + 2 > words.length) {
        randomFillSync(words);
        index = 0;
      }
      const value = toUnit(words[index]!, words[index + 1]!);
      index += 2;
      return value;
    },
  };
}

/** sfc32 seeded through splitmix32: fast and reproducible, NOT for production noise. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const splitmix = () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let counter = 1;
  const word = () => {
    const t = (((a + b) >>> 0) + counter) >>> 0;
    counter = (counter + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) word();
  return { next: () => toUnit(word(), word()) };
}

/** `count` independent N(0, std²) samples by the Box–Muller transform. */
export function gaussians(rng: Rng, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = std * Math.sqrt(-2 * Math.log(1 - rng.next()));
    const angle = 2 * Math.PI * rng.next();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}
