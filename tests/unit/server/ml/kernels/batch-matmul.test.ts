import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmBatchMatMul } from '../../../../../server/ml/kernels/batch-matmul.js';
import { seededNormal } from '../../../../../server/ml/testing/tiny-checkpoint.js';

beforeAll(() => {
  tf.env().set('PROD', true);
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const values = (shape: number[], seed: number) => {
  const normal = seededNormal(seed);
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, normal);
};

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
  /** tfjs differentiates a batch broadcast on no backend, so those cases check the product only. */
  products?: 'only';
}

const cases: Case[] = [
  { name: '2-D', a: [5, 3], b: [3, 4], transposeA: false, transposeB: false },
  { name: '2-D, A transposed', a: [3, 5], b: [3, 4], transposeA: true, transposeB: false },
  { name: '2-D, B transposed', a: [5, 3], b: [4, 3], transposeA: false, transposeB: true },
  { name: '2-D, both transposed', a: [3, 5], b: [4, 3], transposeA: true, transposeB: true },
  { name: 'batched (attention)', a: [4, 6, 3], b: [4, 6, 3], transposeA: false, transposeB: true },
  { name: 'batched, rank 4', a: [2, 3, 5, 2], b: [2, 3, 2, 4], transposeA: false, transposeB: false },
  {
    name: 'batch broadcast from A',
    a: [1, 5, 3],
    b: [3, 3, 4],
    transposeA: false,
    transposeB: false,
    products: 'only',
  },
  {
    name: 'batch broadcast from B',
    a: [3, 3, 5],
    b: [3, 4],
    transposeA: true,
    transposeB: false,
    products: 'only',
  },
];

/** The product and both gradients (of the sum of the product times fixed weights). */
async function run(
  backend: 'cpu' | 'wasm',
  c: Case,
): Promise<{ y: number[]; da: number[]; db: number[]; leaked: number }> {
  expect(await tf.setBackend(backend)).toBe(true);
  await tf.ready();
  if (backend === 'wasm') registerWasmBatchMatMul();
  const before = tf.memory().numTensors;
  const a = tf.tensor(values(c.a, 1), c.a);
  const b = tf.tensor(values(c.b, 2), c.b);
  const y = tf.matMul(a, b, c.transposeA, c.transposeB);
  if (c.products === 'only') {
    const product = Array.from(y.dataSync());
    tf.dispose([a, b, y]);
    return { y: product, da: [], db: [], leaked: tf.memory().numTensors - before };
  }
  const weights = tf.tensor(values(y.shape, 3), y.shape);
  const [da, db] = tf.grads((x: tf.Tensor, z: tf.Tensor) =>
    tf.sum(tf.mul(tf.matMul(x, z, c.transposeA, c.transposeB), weights)),
  )([a, b]);
  const result = {
    y: Array.from(y.dataSync()),
    da: Array.from(da!.dataSync()),
    db: Array.from(db!.dataSync()),
  };
  tf.dispose([a, b, y, weights, da!, db!]);
  return { ...result, leaked: tf.memory().numTensors - before };
}

describe('wasm BatchMatMul', () => {
  it.each(cases)('$name: matches the cpu backend, leaking nothing', async (c) => {
    const reference = await run('cpu', c);
    const fast = await run('wasm', c);
    expect(fast.leaked).toBe(0);
    for (const key of ['y', 'da', 'db'] as const) {
      expect(fast[key].length).toBe(reference[key].length);
      for (const [i, v] of fast[key].entries()) expect(v).toBeCloseTo(reference[key][i]!, 4);
    }
  });
});
