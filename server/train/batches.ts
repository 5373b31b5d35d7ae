/**
 * Examples grouped into length buckets (powers of two), shuffled with a seed, so steps reuse a few
 * sequence shapes instead of a new one per example, and an epoch's order is reproducible.
 */
import { seededRandom, shuffle } from '../seeded-random.js';

export interface Sized {
  ids: number[];
}

export function bucketOf(length: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(length, 1)));
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
