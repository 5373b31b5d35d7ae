import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../server/ml/backend.js';
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

  it.each([
    ['most rows targets (log-softmax over every row, one-hot with empty rows)', [{ start: 1, end: 7 }]],
    [
      'two spans, most rows',
      [
        { start: 1, end: 3 },
        { start: 4, end: 8 },
      ],
    ],
    ['few rows targets (gathered)', [{ start: 6, end: 8 }]],
    [
      'overlapping spans: a position counted twice (gathered)',
      [
        { start: 2, end: 6 },
        { start: 3, end: 8 },
      ],
    ],
  ])('%s: the loss and its gradient match a direct sum, cpu and wasm', async (_name, targets) => {
    const ids = [3, 1, 4, 1, 5, 9, 2, 6];
    const vocab = 11;
    const values = Array.from({ length: ids.length * vocab }, (_, i) => Math.sin(i * 1.7) * 3);
    const { positions, labels } = targetPositions(ids, targets);
    let expected = 0;
    const grad = new Array<number>(values.length).fill(0);
    for (const [n, p] of positions.entries()) {
      const row = values.slice(p * vocab, (p + 1) * vocab);
      const max = Math.max(...row);
      const sum = row.reduce((s, x) => s + Math.exp(x - max), 0);
      expected += max + Math.log(sum) - row[labels[n]!]!;
      for (let v = 0; v < vocab; v++)
        grad[p * vocab + v]! += Math.exp(row[v]! - max) / sum - (v === labels[n] ? 1 : 0);
    }
    for (const backend of ['cpu', 'wasm'] as const) {
      await selectBackend(backend);
      const start = tf.memory().numTensors;
      const logits = tf.tensor2d(values, [ids.length, vocab]);
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) =>
        maskedCrossEntropySum(x as tf.Tensor2D, ids, targets),
      )([logits]);
      expect(value.dataSync()[0]).toBeCloseTo(expected, 4);
      const got = grads[0]!.dataSync();
      for (const [i, g] of grad.entries()) expect(got[i]).toBeCloseTo(g, 5);
      tf.dispose([logits, value, ...grads]);
      expect(tf.memory().numTensors).toBe(start);
    }
    await tf.setBackend('cpu');
  });

  it('refuses an example without targets', () => {
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => maskedCrossEntropySum(logits, [1, 2], [])).toThrow(/at least one target/);
    logits.dispose();
  });
});
