import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURE_REGISTRY } from '../../../../../server/ml/architectures/registry.js';
import { selectBackend } from '../../../../../server/ml/backend.js';
import { readModelConfig } from '../../../../../server/ml/config.js';
import {
  loadSgemm,
  nativeMatMulStatus,
  registerNativeMatMul,
  unregisterNativeMatMul,
} from '../../../../../server/ml/kernels/native-matmul.js';
import { createLoraModel, LoraAdapter } from '../../../../../server/ml/lora.js';
import { loadCheckpoint } from '../../../../../server/ml/safetensors.js';
import { seededNormal, writeTinyCheckpoint } from '../../../../../server/ml/testing/tiny-checkpoint.js';
import { fullTrainable } from '../../../../../server/train/full-trainable.js';
import { loraTrainable } from '../../../../../server/train/lora-trainable.js';
import { ordinaryPlan } from '../../../../../server/train/plans.js';
import type { TrainableModel, TrainExample } from '../../../../../server/train/trainer.js';

// Without libopenblas-dev (or with the build failing) the addon is absent and Parley trains on plain
// wasm, which the fallback tests below cover. The kernel's own tests fail then, saying what to
// install: .ci/run installs libopenblas-dev, and npm's postinstall (or `node native/build.mjs`) builds it.
const available = nativeMatMulStatus().available;

let root: string;
beforeAll(async () => {
  tf.env().set('PROD', true);
  root = await mkdtemp(path.join(tmpdir(), 'parley-native-matmul-'));
});
afterAll(async () => {
  unregisterNativeMatMul('wasm');
  unregisterNativeMatMul('cpu');
  await tf.setBackend('cpu');
  await rm(root, { recursive: true, force: true });
});

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
const values = (shape: number[], seed: number) =>
  Float32Array.from({ length: size(shape) }, seededNormal(seed));

/** The product in plain JavaScript (float64 sums): op(a)·op(b) per batch, one side broadcast if its batch is 1. */
function reference(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  ta: boolean,
  tb: boolean,
) {
  const [ra, rb] = [aShape.length, bShape.length];
  const m = ta ? aShape[ra - 1]! : aShape[ra - 2]!;
  const k = ta ? aShape[ra - 2]! : aShape[ra - 1]!;
  const n = tb ? bShape[rb - 2]! : bShape[rb - 1]!;
  const batchA = size(aShape.slice(0, -2));
  const batchB = size(bShape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const oa = (batchA === 1 ? 0 : p) * m * k;
    const ob = (batchB === 1 ? 0 : p) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let x = 0; x < k; x++) {
          const av = ta ? a[oa + x * m + i]! : a[oa + i * k + x]!;
          const bv = tb ? b[ob + j * k + x]! : b[ob + x * n + j]!;
          sum += av * bv;
        }
        out[p * m * n + i * n + j] = sum;
      }
  }
  return out;
}

interface Case {
  name: string;
  /** Untransposed operand shapes: a [..., m, k], b [..., k, n]. */
  a: number[];
  b: number[];
}

const cases: Case[] = [
  { name: '2-D, odd sizes', a: [7, 13], b: [13, 5] },
  { name: '2-D, single row and column', a: [1, 9], b: [9, 1] },
  { name: '2-D, inner size 1', a: [6, 1], b: [1, 11] },
  { name: '2-D, larger than a BLAS block', a: [67, 129], b: [129, 33] },
  { name: 'batched 3-D (attention)', a: [3, 5, 7], b: [3, 7, 4] },
  { name: 'batched rank 4', a: [2, 3, 5, 2], b: [2, 3, 2, 6] },
  { name: 'batch broadcast from A (batch 1)', a: [1, 5, 3], b: [4, 3, 6] },
  { name: 'batch broadcast from A (2-D)', a: [5, 3], b: [4, 3, 6] },
  { name: 'batch broadcast from B (2-D)', a: [4, 5, 3], b: [3, 6] },
  { name: 'leading 1s on one side only', a: [1, 3, 5, 3], b: [3, 3, 2] },
];
const transposes = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;
const table = cases.flatMap((c) => transposes.map(([ta, tb]) => ({ ...c, ta, tb })));

/** Swaps the last two dims of a shape, for building a transposed operand. */
const swapped = (shape: number[]) => [...shape.slice(0, -2), shape.at(-1)!, shape.at(-2)!];

describe('native BatchMatMul (OpenBLAS)', () => {
  beforeAll(() => {
    if (!available) throw new Error(`the native kernel's tests need the addon: ${nativeMatMulStatus().why}`);
  });
  it.each(['wasm', 'cpu'] as const)('registers on %s and reports it', async (backend) => {
    await selectBackend(backend);
    expect(registerNativeMatMul(backend)).toBe(true);
    expect(nativeMatMulStatus().registered).toContain(backend);
    unregisterNativeMatMul(backend);
    expect(nativeMatMulStatus().registered).not.toContain(backend);
  });

  it.each(table)('$name, transposeA=$ta transposeB=$tb: matches a plain product, wasm and cpu', async (c) => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await selectBackend(backend);
      expect(registerNativeMatMul(backend)).toBe(true);
      const before = tf.memory().numTensors;
      const aShape = c.ta ? swapped(c.a) : c.a;
      const bShape = c.tb ? swapped(c.b) : c.b;
      const [av, bv] = [values(aShape, 1), values(bShape, 2)];
      const a = tf.tensor(av, aShape);
      const b = tf.tensor(bv, bShape);
      const y = tf.matMul(a, b, c.ta, c.tb);
      const expected = reference(av, aShape, bv, bShape, c.ta, c.tb);
      const outer = c.a.length >= c.b.length ? c.a.slice(0, -2) : c.b.slice(0, -2);
      const batch = size(c.a.slice(0, -2)) >= size(c.b.slice(0, -2)) ? c.a : c.b;
      expect(y.shape.slice(-2)).toEqual([c.a.at(-2), c.b.at(-1)]);
      expect(size(y.shape.slice(0, -2))).toBe(size(batch.slice(0, -2)));
      expect(y.shape.length).toBe(outer.length + 2);
      const got = y.dataSync();
      expect(got.length).toBe(expected.length);
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 4);
      tf.dispose([a, b, y]);
      expect(tf.memory().numTensors).toBe(before);
      unregisterNativeMatMul(backend);
    }
  });

  it('hands a two-sided batch broadcast to the kernel it replaced', async () => {
    await selectBackend('wasm');
    const a = tf.tensor(values([2, 1, 3, 4], 1), [2, 1, 3, 4]);
    const b = tf.tensor(values([1, 3, 4, 5], 2), [1, 3, 4, 5]);
    const stock = tf.matMul(a, b);
    expect(registerNativeMatMul('wasm')).toBe(true);
    const native = tf.matMul(a, b);
    expect(native.shape).toEqual([2, 3, 3, 5]);
    expect(Array.from(native.dataSync())).toEqual(Array.from(stock.dataSync()));
    tf.dispose([a, b, stock, native]);
    unregisterNativeMatMul('wasm');
  });

  it('rejects operands smaller than their shape instead of reading past them', () => {
    const addon = loadSgemm()!;
    expect(() =>
      addon.gemm(
        new Float32Array(5),
        new Float32Array(6),
        new Float32Array(4),
        1,
        2,
        2,
        3,
        false,
        false,
        0,
        0,
      ),
    ).toThrow(/smaller than its shape/);
    expect(() =>
      addon.gemm(new Float32Array(6), [] as never, new Float32Array(4), 1, 2, 2, 3, false, false, 0, 0),
    ).toThrow(/Float32Array/);
  });

  it.each(['full', 'lora'] as const)(
    'a %s fine-tuning step has the same gradients with native matMul as on plain wasm',
    async (mode) => {
      const dir = path.join(root, `step-${mode}`);
      await writeTinyCheckpoint(dir, {
        architecture: 'llama',
        hiddenSize: 48,
        intermediateSize: 96,
        numLayers: 2,
        numHeads: 4,
        numKvHeads: 2,
        vocabSize: 97,
        tieWordEmbeddings: true,
        seed: 5,
      });
      const examples: TrainExample[] = [0, 1].map((e) => ({
        ids: Array.from({ length: 19 + e * 4 }, (_, i) => (i * 31 + e * 7) % 97),
        targets: [{ start: 3, end: 19 + e * 4 }],
      }));
      const gradients = async (native: boolean) => {
        await selectBackend('wasm', { nativeMatMul: native });
        expect(nativeMatMulStatus().registered.includes('wasm')).toBe(native);
        const config = await readModelConfig(dir);
        const checkpoint = await loadCheckpoint(dir);
        let trainable: TrainableModel;
        let dispose: () => void;
        if (mode === 'full') {
          const model = ARCHITECTURE_REGISTRY.llama(config, checkpoint, undefined, { trainable: true });
          trainable = fullTrainable(model);
          dispose = () => model.dispose();
        } else {
          const adapter = LoraAdapter.create(config, { targetModules: 'all-linear', r: 4, seed: 2 });
          // B starts at zero, where A has no gradient: move it so that both are checked.
          for (const v of adapter.variables)
            v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, 0.1, 'float32', 9)));
          const model = createLoraModel(config, checkpoint, adapter);
          trainable = loraTrainable(model, adapter);
          dispose = () => {
            model.dispose();
            adapter.dispose();
          };
        }
        const before = tf.memory().numTensors;
        const plan = ordinaryPlan(examples, { epochs: 1, batchSize: 2, accumulation: 1, seed: 1 });
        const { grads, lossSum } = await plan.gradients(trainable, examples);
        const out = { lossSum, grads: grads.map((g) => Array.from(g.dataSync())) };
        tf.dispose(grads);
        expect(tf.memory().numTensors).toBe(before);
        dispose();
        return out;
      };
      const plain = await gradients(false);
      const native = await gradients(true);
      expect(native.lossSum).toBeCloseTo(plain.lossSum, 3);
      expect(native.grads.length).toBe(plain.grads.length);
      for (const [i, grad] of native.grads.entries()) {
        const want = plain.grads[i]!;
        const scale = Math.max(...want.map(Math.abs), 1e-6);
        for (const [j, v] of grad.entries()) expect(Math.abs(v - want[j]!) / scale).toBeLessThan(1e-4);
      }
      unregisterNativeMatMul('wasm');
    },
  );
});

describe('without the native addon', () => {
  it('a missing addon registers nothing and says how to build it', async () => {
    await selectBackend('wasm');
    const missing = path.join(root, 'absent', 'parley_sgemm.node');
    expect(registerNativeMatMul('wasm', { file: missing })).toBe(false);
    expect(nativeMatMulStatus(missing)).toMatchObject({ available: false, registered: [] });
    expect(nativeMatMulStatus(missing).why).toMatch(/not built.*libopenblas-dev.*native\/build\.mjs/);
  });

  it('an addon that fails to load registers nothing and says why', async () => {
    await selectBackend('wasm');
    const broken = path.join(root, 'broken.node');
    await writeFile(broken, 'not a shared object');
    expect(registerNativeMatMul('wasm', { file: broken })).toBe(false);
    expect(nativeMatMulStatus(broken).why).toMatch(/failed to load/);
    expect(nativeMatMulStatus(broken).registered).toEqual([]);
  });

  it('training asks for native matMul and gets wasm either way, saying which', async () => {
    const selection = await selectBackend('wasm', { nativeMatMul: true });
    expect(selection.name).toBe('wasm');
    expect(selection.reason).toMatch(available ? /matMul on OpenBLAS/ : /no native matMul: native\/sgemm/);
    const plain = await selectBackend('wasm');
    expect(plain.reason).toBe('TFJS_BACKEND=wasm (single-threaded)');
    expect(nativeMatMulStatus().registered).toEqual([]);
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const y = tf.matMul(a, a, true, false);
    expect(Array.from(y.dataSync())).toEqual([10, 14, 14, 20]);
    tf.dispose([a, y]);
  });
});
