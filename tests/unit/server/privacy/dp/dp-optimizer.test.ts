import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DpOptimizer, type DpOptimizerOptions } from '../../../../../server/privacy/dp/dp-optimizer.js';
import { RdpAccountant } from '../../../../../server/privacy/dp/rdp-accountant.js';
import { seededRng } from '../../../../../server/privacy/dp/rng.js';
import { logisticRegression, separableData } from './models.js';
import { expectNoLeak, take, useCpuBackend } from './tensors.js';

beforeAll(useCpuBackend);

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function setup(overrides: Partial<DpOptimizerOptions> = {}) {
  const model = logisticRegression(3, { weights: [0.2, -0.1, 0.4], bias: 0.05 });
  const optimizer = tf.train.sgd(0.5);
  const dp = new DpOptimizer({
    optimizer,
    variables: model.variables,
    gradients: { strategy: 'vectorized', loss: model.batchedLoss },
    clipNorm: 1,
    noiseMultiplier: 0,
    sampleRate: 0.1,
    unitCount: 40,
    rng: seededRng(1),
    ...overrides,
  });
  return {
    model,
    dp,
    dispose: () => {
      optimizer.dispose();
      model.dispose();
    },
  };
}

describe('DpOptimizer', () => {
  it.each(['microbatch', 'vectorized'] as const)(
    'with σ = 0 applies lr · Σ clip(g_i) / (q·N), the clipped sum over the expected batch size (%s)',
    async (strategy) => {
      await expectNoLeak(() => {
        const model = logisticRegression(3, { weights: [0.2, -0.1, 0.4], bias: 0.05 });
        const optimizer = tf.train.sgd(0.5);
        const dp = new DpOptimizer({
          optimizer,
          variables: model.variables,
          gradients:
            strategy === 'microbatch'
              ? { strategy, loss: model.loss }
              : { strategy, loss: model.batchedLoss },
          clipNorm: 0.3,
          noiseMultiplier: 0,
          sampleRate: 0.1,
          unitCount: 40,
          rng: seededRng(1),
        });
        const xs = [
          [1, 2, -1],
          [0.1, 0, 0.2],
          [-3, 1, 1],
        ];
        const ys = [1, 0, 0];
        const batch = { xs: tf.tensor2d(xs), ys: tf.tensor1d(ys), unitIds: [0, 1, 2], unitCount: 3 };
        dp.step(batch);
        // By hand: per-example gradients, each clipped to 0.3, summed, divided by q·N = 4.
        const sum = [0, 0, 0, 0];
        xs.forEach((x, i) => {
          const r = sigmoid(0.2 * x[0]! - 0.1 * x[1]! + 0.4 * x[2]! + 0.05) - ys[i]!;
          const g = [...x.map((v) => r * v), r];
          const scale = Math.min(1, 0.3 / (Math.hypot(...g) + 1e-6));
          g.forEach((v, k) => {
            sum[k]! += v * scale;
          });
        });
        const expectedWeights = [0.2, -0.1, 0.4].map((w, k) => w - (0.5 * sum[k]!) / 4);
        take(model.weights.clone()).forEach((w, k) => {
          expect(w).toBeCloseTo(expectedWeights[k]!, 5);
        });
        expect(take(model.bias.clone())[0]).toBeCloseTo(0.05 - (0.5 * sum[3]!) / 4, 5);
        tf.dispose([batch.xs, batch.ys]);
        optimizer.dispose();
        model.dispose();
      });
    },
  );

  it('still adds noise, and still counts the step, on an empty batch', async () => {
    await expectNoLeak(() => {
      const quiet = setup();
      quiet.dp.step(null);
      expect(take(quiet.model.weights.clone())).toEqual([0.2, -0.1, 0.4].map((v) => expect.closeTo(v, 6)));
      quiet.dispose();

      const noisy = setup({ noiseMultiplier: 1 });
      const empty = { xs: tf.zeros([0, 3]), ys: tf.zeros([0]), unitIds: [], unitCount: 0 };
      noisy.dp.step(empty);
      noisy.dp.step(null);
      tf.dispose([empty.xs, empty.ys]);
      const moved = take(noisy.model.weights.clone()).map((w, k) => Math.abs(w - [0.2, -0.1, 0.4][k]!));
      expect(Math.max(...moved)).toBeGreaterThan(1e-3);
      expect(noisy.dp.accountant.history).toEqual([[1, 0.1, 2]]);
      noisy.dispose();
    });
  });

  it('adds noise of std σC/(q·N) to the update', async () => {
    await expectNoLeak(() => {
      const model = logisticRegression(2000);
      const optimizer = tf.train.sgd(1);
      const dp = new DpOptimizer({
        optimizer,
        variables: model.variables,
        gradients: { strategy: 'vectorized', loss: model.batchedLoss },
        clipNorm: 2,
        noiseMultiplier: 1.5,
        sampleRate: 0.05,
        unitCount: 100,
        rng: seededRng(17),
      });
      dp.step(null);
      const w = take(model.weights.clone());
      const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
      const expected = (1.5 * 2) / (0.05 * 100);
      expect(Math.abs(std - expected)).toBeLessThan((4 * expected) / Math.sqrt(2 * w.length));
      optimizer.dispose();
      model.dispose();
    });
  });

  it('records every step with the accountant it was given, so a resumed run keeps counting', async () => {
    await expectNoLeak(() => {
      const restored = RdpAccountant.fromState({ accountant: 'rdp', history: [[1, 0.1, 5]] });
      const run = setup({ noiseMultiplier: 1, accountant: restored });
      const { xs, ys } = separableData(4, 3);
      const batch = { xs: tf.tensor2d(xs), ys: tf.tensor1d(ys), unitIds: [0, 1, 2, 3], unitCount: 4 };
      run.dp.step(batch);
      run.dp.step(batch);
      expect(run.dp.accountant).toBe(restored);
      expect(restored.history).toEqual([[1, 0.1, 7]]);
      tf.dispose([batch.xs, batch.ys]);
      run.dispose();
    });
  });

  it.each([
    [{ clipNorm: 0 }, /clipNorm/],
    [{ noiseMultiplier: -0.5 }, /noiseMultiplier/],
    [{ sampleRate: 0 }, /sampleRate/],
    [{ sampleRate: 1.2 }, /sampleRate/],
    [{ unitCount: 0 }, /unitCount/],
    [{ unitCount: 3.5 }, /unitCount/],
  ])('refuses %j', async (overrides, message) => {
    await expectNoLeak(() => {
      const model = logisticRegression(3);
      const optimizer = tf.train.sgd(0.1);
      expect(
        () =>
          new DpOptimizer({
            optimizer,
            variables: model.variables,
            gradients: { strategy: 'vectorized', loss: model.batchedLoss },
            clipNorm: 1,
            noiseMultiplier: 1,
            sampleRate: 0.1,
            unitCount: 10,
            ...overrides,
          }),
      ).toThrow(message);
      optimizer.dispose();
      model.dispose();
    });
  });
});
