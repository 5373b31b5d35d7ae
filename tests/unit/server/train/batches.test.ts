import { describe, expect, it } from 'vitest';
import { bucketOf, epochBatches } from '../../../../server/train/batches.js';

const examples = Array.from({ length: 40 }, (_, i) => ({
  id: i,
  ids: Array.from({ length: 3 + (i % 20) * 7 }, () => 1),
}));

describe('epochBatches', () => {
  it.each([
    [1, 1],
    [3, 4],
    [64, 64],
    [65, 128],
  ])('puts length %i in bucket %i', (length, bucket) => {
    expect(bucketOf(length)).toBe(bucket);
  });

  it('batches each example once, each batch from one length bucket', () => {
    const batches = epochBatches(examples, 4, 7);
    expect(
      batches
        .flat()
        .map((e) => e.id)
        .sort((a, b) => a - b),
    ).toEqual(examples.map((e) => e.id));
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(4);
      expect(new Set(batch.map((e) => bucketOf(e.ids.length))).size).toBe(1);
    }
  });

  it('is reproducible with a seed and different with another', () => {
    const order = (seed: number) =>
      epochBatches(examples, 4, seed)
        .flat()
        .map((e) => e.id);
    expect(order(7)).toEqual(order(7));
    expect(order(8)).not.toEqual(order(7));
  });

  it('refuses a batch size below 1', () => {
    expect(() => epochBatches(examples, 0, 1)).toThrow(RangeError);
  });
});
