import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { maskedCrossEntropySum, targetPositions } from '../../../../server/train/loss.js';

describe('masked causal LM loss', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each([
    [[5, 6, 7, 8], [{ start: 2, end: 4 }], [1, 2], [7, 8]],
    [[5, 6, 7, 8], [{ start: 0, end: 2 }], [0], [6]],
    [
      [5, 6, 7, 8],
      [
        { start: 1, end: 2 },
        { start: 3, end: 9 },
      ],
      [0, 2],
      [6, 8],
    ],
    [[5, 6], [], [], []],
  ])('predicts the targets of %j %j from the positions before them', (ids, targets, positions, labels) => {
    expect(targetPositions(ids, targets)).toEqual({ positions, labels });
  });

  it('sums the cross-entropy over target positions only', () => {
    const start = tf.memory().numTensors;
    const logitsData = [
      [1, 2, 0.5],
      [0.1, 0.2, 3],
      [2, 2, 2],
    ];
    const logits = tf.tensor2d(logitsData);
    const loss = maskedCrossEntropySum(logits, [0, 2, 1], [{ start: 2, end: 3 }]);
    const row = logitsData[1]!;
    const logSumExp = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
    expect(loss.dataSync()[0]).toBeCloseTo(logSumExp - row[1]!, 5);
    loss.dispose();
    logits.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('refuses an example without targets', () => {
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => maskedCrossEntropySum(logits, [1, 2], [])).toThrow(/at least one target/);
    logits.dispose();
  });
});
