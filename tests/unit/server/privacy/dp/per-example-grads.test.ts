import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { microbatchGrads, vectorizedGrads } from '../../../../../server/privacy/dp/per-example-grads.js';
import { logisticRegression, separableData } from './models.js';
import { expectNoLeak, take, useCpuBackend } from './tensors.js';

beforeAll(useCpuBackend);

const weights = [0.3, -0.2, 0.5, 0.1];
const bias = -0.1;
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** ∂/∂(w, b) of the cross-entropy of one example, by hand: (σ(w·x + b) − y)·(x, 1). */
function handGradient(x: number[], y: number): number[] {
  const residual = sigmoid(x.reduce((s, v, i) => s + v * weights[i]!, bias)) - y;
  return [...x.map((v) => residual * v), residual];
}

const strategies = [
  [
    'microbatch',
    (m: ReturnType<typeof logisticRegression>) => microbatchGrads.bind(null, m.loss, m.variables),
  ],
  [
    'vectorized',
    (m: ReturnType<typeof logisticRegression>) => vectorizedGrads.bind(null, m.batchedLoss, m.variables),
  ],
] as const;

describe.each(strategies)('%s per-example gradients', (_, strategyOf) => {
  it('equal the gradients worked out by hand, one row per example', async () => {
    const model = logisticRegression(4, { weights, bias });
    await expectNoLeak(() => {
      const { xs, ys } = separableData(6, 4, 3);
      const batch = { xs: tf.tensor2d(xs), ys: tf.tensor1d(ys), unitIds: [0, 1, 2, 3, 4, 5], unitCount: 6 };
      const [gw, gb] = strategyOf(model)(batch);
      expect(gw!.shape).toEqual([6, 4]);
      expect(gb!.shape).toEqual([6]);
      const w = take(gw!);
      const b = take(gb!);
      xs.forEach((x, i) => {
        const expected = handGradient(x, ys[i]!);
        expected.slice(0, 4).forEach((v, k) => {
          expect(w[i * 4 + k]).toBeCloseTo(v, 5);
        });
        expect(b[i]).toBeCloseTo(expected[4]!, 5);
      });
      tf.dispose([batch.xs, batch.ys]);
    });
    model.dispose();
  });

  it("sum a customer's examples into one row per customer", async () => {
    const model = logisticRegression(4, { weights, bias });
    await expectNoLeak(() => {
      const { xs, ys } = separableData(5, 4, 4);
      const batch = { xs: tf.tensor2d(xs), ys: tf.tensor1d(ys), unitIds: [1, 0, 1, 1, 0], unitCount: 2 };
      const [gw, gb] = strategyOf(model)(batch);
      expect(gw!.shape).toEqual([2, 4]);
      const w = take(gw!);
      const b = take(gb!);
      for (const unit of [0, 1]) {
        const members = batch.unitIds.flatMap((u, row) => (u === unit ? [row] : []));
        const expected = members
          .map((row) => handGradient(xs[row]!, ys[row]!))
          .reduce((acc, g) => acc.map((v, k) => v + g[k]!));
        expected.slice(0, 4).forEach((v, k) => {
          expect(w[unit * 4 + k]).toBeCloseTo(v, 5);
        });
        expect(b[unit]).toBeCloseTo(expected[4]!, 5);
      }
      tf.dispose([batch.xs, batch.ys]);
    });
    model.dispose();
  });

  it.each([
    [[0, 1], 2, /one unit id per row/],
    [[0, 1, 3], 3, /unit id 3 is outside 0 … 2/],
    [[0, -1, 1], 2, /unit id -1/],
    [[0, 0.5, 1], 2, /unit id 0.5/],
  ])('refuse unit ids %j with %d units', async (unitIds, unitCount, message) => {
    const model = logisticRegression(4);
    await expectNoLeak(() => {
      const batch = { xs: tf.ones([3, 4]), ys: tf.ones([3]), unitIds, unitCount };
      expect(() => strategyOf(model)(batch)).toThrow(message);
      tf.dispose([batch.xs, batch.ys]);
    });
    model.dispose();
  });

  it('give an empty, correctly shaped result for an empty batch', async () => {
    const model = logisticRegression(4);
    await expectNoLeak(() => {
      const batch = { xs: tf.zeros([0, 4]), ys: tf.zeros([0]), unitIds: [], unitCount: 0 };
      const grads = strategyOf(model)(batch);
      expect(grads.map((g) => g.shape)).toEqual([[0, 4], [0]]);
      tf.dispose([...grads, batch.xs, batch.ys]);
    });
    model.dispose();
  });
});
