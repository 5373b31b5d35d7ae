import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../../../server/train/schedule.js';

const options = { peak: 1e-3, warmupSteps: 10, totalSteps: 110, minRatio: 0.1 };

describe('learningRateAt', () => {
  it.each([
    [0, 1e-4],
    [4, 5e-4],
    [9, 1e-3],
    [10, 1e-3],
    [60, 1e-3 * (0.1 + 0.9 * 0.5)],
    [110, 1e-4],
    [500, 1e-4],
  ])('at step %i is %f', (step, expected) => {
    expect(learningRateAt(step, options)).toBeCloseTo(expected, 12);
  });

  it('never rises after the warmup', () => {
    let previous = Number.POSITIVE_INFINITY;
    for (let step = 10; step <= 110; step += 1) {
      const lr = learningRateAt(step, options);
      expect(lr).toBeLessThanOrEqual(previous);
      previous = lr;
    }
  });

  it.each([
    [{ ...options, peak: 0 }],
    [{ ...options, totalSteps: 0 }],
    [{ ...options, minRatio: 2 }],
    [{ ...options, warmupSteps: -1 }],
  ])('rejects %j', (bad) => {
    expect(() => learningRateAt(0, bad)).toThrow(RangeError);
  });
});
