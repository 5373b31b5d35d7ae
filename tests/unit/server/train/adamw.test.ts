import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../../../server/train/adamw.js';

/** Float64 AdamW with decoupled weight decay, written from the paper's update rule. */
function referenceAdamW(w: number[], grads: number[][], lr: number, wd: number): number[] {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const x = [...w];
  grads.forEach((g, t) => {
    for (let i = 0; i < x.length; i += 1) {
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
      const mHat = m[i]! / (1 - b1 ** (t + 1));
      const vHat = v[i]! / (1 - b2 ** (t + 1));
      x[i] = x[i]! * (1 - lr * wd) - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  });
  return x;
}

describe('AdamW', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('follows the AdamW update rule with decoupled weight decay', () => {
    const start = tf.memory().numTensors;
    const initial = [0.5, -1.25, 2];
    const grads = [
      [0.1, -0.2, 0.3],
      [0.05, 0.4, -0.1],
      [-0.3, 0.1, 0.2],
    ];
    const variable = tf.tidy(() => tf.variable(tf.tensor1d(initial)));
    const optimizer = new AdamW([variable], { weightDecay: 0.1 });
    for (const g of grads) {
      const grad = tf.tensor1d(g);
      optimizer.apply([grad], 0.01);
      grad.dispose();
    }
    const expected = referenceAdamW(initial, grads, 0.01, 0.1);
    for (const [i, value] of Array.from(variable.dataSync()).entries())
      expect(value).toBeCloseTo(expected[i]!, 5);
    optimizer.dispose();
    variable.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('shrinks weights with a zero gradient only through weight decay', () => {
    const variable = tf.tidy(() => tf.variable(tf.tensor1d([2])));
    const optimizer = new AdamW([variable], { weightDecay: 0.5 });
    const zero = tf.tensor1d([0]);
    optimizer.apply([zero], 0.1);
    expect(variable.dataSync()[0]).toBeCloseTo(2 * (1 - 0.1 * 0.5), 6);
    zero.dispose();
    optimizer.dispose();
    variable.dispose();
  });

  it('resumes from its state exactly', () => {
    const run = (split: boolean) => {
      const variable = tf.tidy(() => tf.variable(tf.tensor1d([1, 2])));
      let optimizer = new AdamW([variable]);
      const steps = [
        [0.3, -0.1],
        [0.2, 0.2],
        [-0.4, 0.1],
        [0.1, 0.1],
      ];
      steps.forEach((g, i) => {
        if (split && i === 2) {
          const state = optimizer.state();
          optimizer.dispose();
          optimizer = new AdamW([variable]);
          optimizer.restore(state);
        }
        const grad = tf.tensor1d(g);
        optimizer.apply([grad], 0.05);
        grad.dispose();
      });
      const result = Array.from(variable.dataSync());
      optimizer.dispose();
      variable.dispose();
      return result;
    };
    expect(run(true)).toEqual(run(false));
  });

  it('refuses gradients that do not match its variables', () => {
    const variable = tf.tidy(() => tf.variable(tf.tensor1d([1])));
    const optimizer = new AdamW([variable]);
    expect(() => optimizer.apply([], 0.1)).toThrow(/0 gradients for 1 variables/);
    optimizer.dispose();
    variable.dispose();
  });
});
