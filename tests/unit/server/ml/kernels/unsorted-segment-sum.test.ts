import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelConfig } from '../../../../../server/ml/config.js';
import { registerWasmUnsortedSegmentSum } from '../../../../../server/ml/kernels/unsorted-segment-sum.js';
import { createLoraModel, LoraAdapter } from '../../../../../server/ml/lora.js';
import { loadCheckpoint } from '../../../../../server/ml/safetensors.js';
import { seededNormal, writeTinyCheckpoint } from '../../../../../server/ml/testing/tiny-checkpoint.js';
import { maskedCrossEntropySum } from '../../../../../server/train/loss.js';

let root: string;
beforeAll(async () => {
  tf.env().set('PROD', true);
  root = await mkdtemp(path.join(tmpdir(), 'parley-kernels-'));
});
afterAll(async () => {
  await tf.setBackend('cpu');
  await rm(root, { recursive: true, force: true });
});

/** Runs `body` on `backend` and checks it leaves no tensor behind. */
async function on<T>(backend: 'cpu' | 'wasm', body: () => T | Promise<T>): Promise<T> {
  expect(await tf.setBackend(backend)).toBe(true);
  await tf.ready();
  const before = tf.memory().numTensors;
  const result = await body();
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

function randomValues(n: number, seed: number): number[] {
  const normal = seededNormal(seed);
  return Array.from({ length: n }, normal);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function segmentSumOn(
  backend: 'cpu' | 'wasm',
  values: number[],
  shape: number[],
  ids: number[],
  numSegments: number,
  dtype: 'float32' | 'int32' = 'float32',
) {
  return on(backend, () =>
    tf.tidy(() => {
      const out = tf.unsortedSegmentSum(
        tf.tensor(values, shape, dtype),
        tf.tensor1d(ids, 'int32'),
        numSegments,
      );
      return { shape: out.shape, dtype: out.dtype, data: Array.from(out.dataSync()) };
    }),
  );
}

describe('UnsortedSegmentSum on wasm', () => {
  it('is missing on wasm until registered (tf.gather needs it for its gradient)', async () => {
    // Skipped once another test file in the same worker registered it.
    if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
    await on('wasm', () => {
      expect(() =>
        tf.tidy(() => tf.unsortedSegmentSum(tf.ones([3, 2]), tf.tensor1d([0, 1, 1], 'int32'), 2)),
      ).toThrow(/UnsortedSegmentSum' not registered for backend 'wasm'/);
    });
  });

  it('registers once; a second call does nothing', () => {
    registerWasmUnsortedSegmentSum();
    const kernel = tf.getKernel('UnsortedSegmentSum', 'wasm');
    expect(kernel).toBeDefined();
    registerWasmUnsortedSegmentSum();
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBe(kernel);
  });

  const cases: [string, number[], number[], number][] = [
    ['ids in order, one row each', [4, 3], [0, 1, 2, 3], 4],
    ['ids out of order and repeated', [6, 5], [3, 0, 3, 1, 0, 3], 4],
    ['more segments than ids use (unused rows are zero)', [5, 2, 3], [7, 2, 2, 0, 7], 12],
    ['ids equal to x (inner size 1)', [7], [2, 2, 0, 1, 2, 0, 1], 3],
    ['a wide row, as the embedding gradient has', [9, 300], [4, 8, 1, 1, 4, 0, 8, 8, 2], 10],
    ['ids out of range (negative or >= numSegments) are dropped', [5, 2], [-1, 0, 3, 1, 9], 3],
    [
      'random ids, some out of range',
      [40, 16],
      randomValues(40, 9).map((v) => Math.floor(Math.abs(v) * 12) - 2),
      20,
    ],
  ];
  for (const [name, shape, ids, numSegments] of cases) {
    it(`matches cpu: ${name}`, async () => {
      registerWasmUnsortedSegmentSum();
      const values = randomValues(
        shape.reduce((a, b) => a * b, 1),
        shape.length * 31 + ids.length,
      );
      const cpu = await segmentSumOn('cpu', values, shape, ids, numSegments);
      const wasm = await segmentSumOn('wasm', values, shape, ids, numSegments);
      expect(wasm.shape).toEqual(cpu.shape);
      expect(wasm.shape[0]).toBe(numSegments);
      expect(maxAbsDiff(wasm.data, cpu.data)).toBeLessThan(1e-5);
    });
  }

  it('sums int32 values exactly and keeps the dtype', async () => {
    registerWasmUnsortedSegmentSum();
    const values = [1, 2, 3, 4, 5, 6, 7, 8];
    const wasm = await segmentSumOn('wasm', values, [4, 2], [1, 0, 1, 1], 3, 'int32');
    expect(wasm.dtype).toBe('int32');
    expect(wasm.data).toEqual([3, 4, 1 + 5 + 7, 2 + 6 + 8, 0, 0]);
  });

  it('gives tf.gather the same gradient on wasm as on cpu', async () => {
    registerWasmUnsortedSegmentSum();
    const table = randomValues(10 * 6, 3);
    const weights = randomValues(7 * 6, 4);
    const indices = [9, 0, 3, 3, 9, 2, 3];
    const gradient = (backend: 'cpu' | 'wasm') =>
      on(backend, () =>
        tf.tidy(() => {
          const w = tf.tensor2d(weights, [7, 6]);
          const loss = (e: tf.Tensor) => tf.gather(e, indices).mul(w).square().sum() as tf.Scalar;
          return Array.from(
            tf
              .grad(loss)(tf.tensor2d(table, [10, 6]))
              .dataSync(),
          );
        }),
      );
    const cpu = await gradient('cpu');
    const wasm = await gradient('wasm');
    // Rows no index points at get no gradient.
    expect(cpu.slice(6, 12).every((v) => v === 0)).toBe(true);
    expect(cpu.some((v) => v !== 0)).toBe(true);
    expect(maxAbsDiff(wasm, cpu)).toBeLessThan(1e-4);
  });

  it('trains a tiny llama with LoRA on wasm to the same loss and gradients as on cpu', async () => {
    registerWasmUnsortedSegmentSum();
    const dir = path.join(root, 'llama');
    await writeTinyCheckpoint(dir, { architecture: 'llama', seed: 5 });
    const config = await readModelConfig(dir);
    const checkpoint = await loadCheckpoint(dir);
    const ids = [5, 17, 42, 0, 63, 17, 8, 30, 30, 1];
    const targets = [
      { start: 3, end: 6 },
      { start: 8, end: 10 },
    ];
    const step = (backend: 'cpu' | 'wasm') =>
      on(backend, () => {
        const adapter = LoraAdapter.create(config, { targetModules: 'all-linear', r: 4, seed: 2 });
        const model = createLoraModel(config, checkpoint, adapter);
        try {
          // B starts at zero, which would leave A's gradient zero; noise makes every gradient count.
          for (const [i, pair] of adapter.pairs.entries())
            tf.tidy(() => pair.b.assign(tf.randomNormal(pair.b.shape, 0, 0.5, 'float32', 40 + i)));
          const { value, grads } = tf.variableGrads(
            () => maskedCrossEntropySum(model.forward(ids), ids, targets),
            adapter.variables,
          );
          const result = {
            loss: value.dataSync()[0]!,
            grads: adapter.variables.map((v) => Array.from(grads[v.name]!.dataSync())),
          };
          tf.dispose([value, ...Object.values(grads)]);
          return result;
        } finally {
          model.dispose();
          adapter.dispose();
        }
      });
    const cpu = await step('cpu');
    const wasm = await step('wasm');
    expect(Number.isFinite(cpu.loss)).toBe(true);
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu.loss)));
    expect(wasm.grads.length).toBe(cpu.grads.length);
    for (const [i, g] of cpu.grads.entries()) {
      const scale = Math.max(1, ...g.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      expect(g.some((v) => v !== 0)).toBe(true);
      // wasm's matMul sums in another order, so the gradients agree to float32 rounding relative to their size.
      expect(maxAbsDiff(wasm.grads[i]!, g) / scale).toBeLessThan(1e-4);
    }
  });
});
