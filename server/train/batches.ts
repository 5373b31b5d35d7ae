/**
 * Examples grouped into length buckets (powers of two), shuffled with a seed, so steps reuse a few
 * sequence shapes instead of a new one per example, and an epoch's order is reproducible.
 */
export interface Sized {
  ids: number[];
}

export function bucketOf(length: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(length, 1)));
}

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with the given random source. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** One epoch's batches: each batch from one length bucket; batch order shuffled too. */
export function epochBatches<T extends Sized>(examples: T[], batchSize: number, seed: number): T[][] {
  if (batchSize < 1) throw new RangeError('batchSize must be at least 1');
  const random = seededRandom(seed);
  const buckets = new Map<number, T[]>();
  for (const example of examples) {
    const key = bucketOf(example.ids.length);
    const bucket = buckets.get(key);
    if (bucket) bucket.push(example);
    else buckets.set(key, [example]);
  }
  const batches: T[][] = [];
  for (const key of [...buckets.keys()].sort((a, b) => a - b)) {
    const shuffled = shuffle(buckets.get(key)!, random);
    for (let i = 0; i < shuffled.length; i += batchSize) batches.push(shuffled.slice(i, i + batchSize));
  }
  return shuffle(batches, random);
}
