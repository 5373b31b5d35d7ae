/**
 * The GPU code path, on Mesa's software Vulkan driver (lavapipe) through Dawn: the model's golden
 * numbers (forward logits against the float64 reference, KV-cache decoding against the full
 * recompute) and a training step (gather, matMul, softmax, RMSNorm, cross-entropy, AdamW) checked
 * against the cpu backend, with its loss falling. On a real GPU this is Parley's GPU training path.
 *
 * The software adapter is forced, so every machine runs the same driver. Where it is missing the
 * file fails (it never skips), saying what to install; .ci/run installs it. The backend is global
 * to the process: vitest runs this file in its own worker (pool: forks), away from the cpu tests.
 * Software Vulkan runs at a few GFLOP/s, so the models are the tiny ones.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURE_REGISTRY, loadModel } from '../../../../server/ml/architectures/registry.js';
import type { CausalLM } from '../../../../server/ml/architectures/types.js';
import { type BackendSelection, selectBackend } from '../../../../server/ml/backend.js';
import { installWebGpu } from '../../../../server/ml/backend-webgpu.js';
import { type Architecture, readModelConfig } from '../../../../server/ml/config.js';
import { type Dtype, loadCheckpoint } from '../../../../server/ml/safetensors.js';
import {
  type TinyCheckpointOptions,
  writeTinyCheckpoint,
} from '../../../../server/ml/testing/tiny-checkpoint.js';
import { AdamW } from '../../../../server/train/adamw.js';
import { clipByGlobalNorm } from '../../../../server/train/clip.js';
import { fullTrainable } from '../../../../server/train/full-trainable.js';
import { type TrainExample, train } from '../../../../server/train/trainer.js';
import { runCli } from '../../../support/cli.js';
import { referenceGpt2Logits } from './reference/gpt2.js';
import { referenceLlamaLogits } from './reference/llama.js';

let root: string;
let count = 0;
let selection: BackendSelection;
const warnings: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-webgpu-'));
  // Where the driver is missing, this fails every test of the file with what to install.
  selection = await selectBackend('webgpu', {
    webgpuAdapter: 'software',
    warn: (message) => warnings.push(message),
  }).catch((error: Error) => {
    throw new Error(
      `the webgpu tests run on Mesa's software Vulkan driver, which .ci/run installs: ${error.message}`,
    );
  });
  // tfjs-backend-webgpu runs an op on its cpu kernels when every input is still on the CPU side and
  // under 1000 values, which covers much of a tiny model. Off, every op runs as a GPU shader.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const IDS = [5, 17, 42, 0, 63, 17, 8, 30, 30, 1, 59, 12];

async function tinyModel(options: TinyCheckpointOptions): Promise<string> {
  const dir = path.join(root, `m${count++}`);
  await writeTinyCheckpoint(dir, options);
  return dir;
}

async function reference(dir: string, ids: number[]): Promise<number[][]> {
  const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf-8'));
  const weights = await loadCheckpoint(dir);
  return config.model_type === 'gpt2'
    ? referenceGpt2Logits(config, weights, ids)
    : referenceLlamaLogits(config, weights, ids);
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (const [i, r] of a.entries()) {
    expect(r.length).toBe(b[i]!.length);
    for (const [j, v] of r.entries()) max = Math.max(max, Math.abs(v - b[i]![j]!));
  }
  return max;
}

/**
 * Logits as rows of numbers, disposing the tensor. Read asynchronously: webgpu's dataSync and
 * arraySync need OffscreenCanvas, which Node lacks.
 */
async function rows(logits: tf.Tensor2D): Promise<number[][]> {
  try {
    return await logits.array();
  } finally {
    logits.dispose();
  }
}

async function withModel<T>(dir: string, body: (model: CausalLM) => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const { model } = await loadModel(dir);
  try {
    return await body(model);
  } finally {
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
}

describe('the webgpu backend on the software adapter', () => {
  it('is active, says which adapter it runs on, and warns that it is software', () => {
    expect(selection.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(selection.reason).toMatch(/^TFJS_BACKEND=webgpu \(software adapter: .+\)$/);
    expect(selection.warning).toMatch(/software adapter \(.+\).*slower than wasm/);
    expect(warnings).toEqual([selection.warning]);
  });
});

describe('reading tensors on webgpu', () => {
  it('reads asynchronously; a synchronous read of a GPU result fails saying so, leaving the tensor usable', async () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor1d([1, 2, 3]);
    expect(Array.from(x.dataSync())).toEqual([1, 2, 3]); // not on the GPU yet: no GPU read needed
    const y = x.mul(2);
    expect(() => y.dataSync()).toThrow(
      /^the webgpu backend cannot read a tensor synchronously in Node \(dataSync, arraySync: .+\); read it with await tensor\.data\(\) or await tensor\.array\(\)$/,
    );
    expect(await y.array()).toEqual([2, 4, 6]);
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

// The cases of forward.test.ts, which runs them on cpu.
const cases: [Architecture, Dtype, Partial<TinyCheckpointOptions>][] = [
  ['llama', 'F32', {}],
  ['llama', 'F16', {}],
  ['llama', 'BF16', {}],
  ['llama', 'F32', { tieWordEmbeddings: true, numKvHeads: 4, ropeTheta: 500_000 }],
  [
    'llama',
    'F32',
    {
      ropeScaling: {
        rope_type: 'llama3',
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 64,
      },
    },
  ],
  ['llama', 'BF16', { numKvHeads: 1, maxShardBytes: 6000 }],
  ['qwen2', 'F32', {}],
  ['qwen2', 'F16', { tieWordEmbeddings: true }],
  ['qwen2', 'BF16', {}],
  ['gpt2', 'F32', {}],
  ['gpt2', 'F16', {}],
  ['gpt2', 'BF16', { numHeads: 2 }],
];

describe('forward on webgpu against the float64 reference', () => {
  it.each(cases)(
    '%s from a %s checkpoint %j matches the reference logits at every position',
    async (architecture, dtype, extra) => {
      const dir = await tinyModel({ architecture, dtype, seed: 3, ...extra });
      const expected = await reference(dir, IDS);
      const actual = await withModel(dir, (model) => rows(model.forward(IDS)));
      expect(actual.length).toBe(IDS.length);
      expect(actual[0]!.length).toBe(64);
      expect(maxAbsDiff(actual, expected)).toBeLessThan(2e-5); // measured: 1e-6 to 4e-6
      const spread = Math.max(...expected.flat()) - Math.min(...expected.flat());
      expect(spread).toBeGreaterThan(1);
    },
  );

  it.each<Architecture>(['llama', 'qwen2', 'gpt2'])(
    '%s logits differ beyond the tolerance from a model with other weights (negative control)',
    async (architecture) => {
      const dir = await tinyModel({ architecture, seed: 3 });
      const other = await tinyModel({ architecture, seed: 4 });
      const actual = await withModel(dir, (model) => rows(model.forward(IDS)));
      expect(maxAbsDiff(actual, await reference(other, IDS))).toBeGreaterThan(0.1);
    },
  );
});

describe('KV-cache decoding on webgpu', () => {
  it.each<[Architecture, Dtype, number[]]>([
    ['llama', 'BF16', [5, 1, 1, 1, 1, 1, 1, 1]],
    ['qwen2', 'F16', [4, 4, 4]],
    ['gpt2', 'F32', [4, 3, 1, 4]],
  ])('%s (%s): chunks %j through the cache equal the full recompute', async (architecture, dtype, chunks) => {
    const dir = await tinyModel({ architecture, dtype, seed: 9 });
    await withModel(dir, async (model) => {
      const full = await rows(model.forward(IDS));
      const cache = model.createCache();
      const stepped: number[][] = [];
      let at = 0;
      for (const size of chunks) {
        stepped.push(...(await rows(model.forwardWithCache(IDS.slice(at, at + size), cache))));
        at += size;
        expect(cache.length).toBe(at);
      }
      cache.dispose();
      expect(maxAbsDiff(stepped, full)).toBeLessThan(1e-5);
    });
  });
});

/** Runs `body` with `backend` active, then makes webgpu active again. */
async function on<T>(backend: string, body: () => Promise<T>): Promise<T> {
  expect(await tf.setBackend(backend)).toBe(true);
  try {
    return await body();
  } finally {
    expect(await tf.setBackend('webgpu')).toBe(true);
  }
}

/** Sequences counting up modulo 16: every next token follows from this one. */
const examples: TrainExample[] = Array.from({ length: 4 }, (_, i) => {
  const ids = Array.from({ length: 12 }, (_, t) => (i * 3 + t) % 16);
  return { ids, targets: [{ start: 1, end: ids.length }] };
});

interface StepResult {
  loss: number;
  grads: Float32Array[];
}

/**
 * Builds the tiny llama with every weight trainable (so the embedding's gradient flows through
 * tf.gather) on the active backend, and returns the summed loss over `examples` and the gradients.
 * With `steps`, first takes that many AdamW steps and returns each step's loss instead.
 */
async function trainLlama(dir: string, steps = 0): Promise<StepResult & { losses: number[] }> {
  const before = tf.memory().numTensors;
  const config = await readModelConfig(dir);
  const model = ARCHITECTURE_REGISTRY.llama(config, await loadCheckpoint(dir), undefined, {
    trainable: true,
  });
  const trainable = fullTrainable(model);
  const optimizer = new AdamW(trainable.variables, { weightDecay: 0 });
  const lossOf = () =>
    examples.map((example) => trainable.exampleLoss(example, true)).reduce((a, b) => a.add(b)) as tf.Scalar;
  const losses: number[] = [];
  try {
    for (let step = 0; step < steps; step += 1) {
      const { value, grads } = tf.variableGrads(lossOf, trainable.variables);
      optimizer.apply(
        trainable.variables.map((variable) => grads[variable.name]!),
        1e-2,
      );
      losses.push((await value.data())[0]!);
      tf.dispose([value, ...Object.values(grads)]);
    }
    const { value, grads } = tf.variableGrads(lossOf, trainable.variables);
    const loss = (await value.data())[0]!;
    const values = await Promise.all(
      trainable.variables.map(async (variable) => (await grads[variable.name]!.data()) as Float32Array),
    );
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, grads: values, losses };
  } finally {
    optimizer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
}

describe('training on webgpu', () => {
  it("tf.gather's gradient equals the cpu backend's", async () => {
    const gatherGradient = async () => {
      const embeddings = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      const grad = tf.grad((e: tf.Tensor) => tf.gather(e, [2, 0, 2]).square().sum())(embeddings);
      try {
        return Array.from(await grad.data());
      } finally {
        tf.dispose([embeddings, grad]);
      }
    };
    const before = tf.memory().numTensors;
    const webgpu = await gatherGradient();
    expect(tf.memory().numTensors).toBe(before);
    expect(webgpu).toEqual(await on('cpu', gatherGradient));
    expect(webgpu).toEqual([2, 4, 0, 0, 20, 24]);
  });

  it('a full fine-tuning step gives the loss and every gradient of the cpu backend', async () => {
    const dir = await tinyModel({ architecture: 'llama', seed: 5 });
    const webgpu = await trainLlama(dir);
    const cpu = await on('cpu', () => trainLlama(dir));
    expect(webgpu.loss).toBeCloseTo(cpu.loss, 3);
    expect(webgpu.grads.length).toBe(cpu.grads.length);
    for (const [i, grad] of webgpu.grads.entries()) {
      const expected = cpu.grads[i]!;
      const scale = Math.max(...expected.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      const diff = Math.max(...grad.map((v, j) => Math.abs(v - expected[j]!)));
      expect(diff / scale).toBeLessThan(1e-4);
    }
  });

  it('AdamW steps on webgpu make the loss fall', async () => {
    const dir = await tinyModel({ architecture: 'llama', seed: 5 });
    const { losses, loss } = await trainLlama(dir, 10);
    // Before training the model guesses: about ln 64 per target token, 11 targets per example.
    expect(losses[0]).toBeGreaterThan(examples.length * 11 * Math.log(64) * 0.8);
    for (const [i, value] of losses.slice(1).entries()) expect(value).toBeLessThan(losses[i]!);
    expect(loss).toBeLessThan(losses[0]! * 0.1); // measured: 198 → 3.5
  });
});

describe('gradient clipping on webgpu', () => {
  it('takes the global norm over more gradients than one shader can bind (AddN past 7 inputs)', async () => {
    // 20 gradients: as many as a 2-layer llama's weights. tfjs-backend-webgpu's own AddN fails past
    // 7 inputs (WebGPU allows 8 storage buffers per shader stage) and yields garbage.
    const clip = async () => {
      const grads = Array.from({ length: 20 }, (_, i) => tf.fill([3, 5], (i % 4) + 1));
      const { grads: clipped, norm } = await clipByGlobalNorm(grads, 1);
      try {
        return { norm, first: Array.from(await clipped[0]!.data()) };
      } finally {
        tf.dispose([...grads, ...clipped]);
      }
    };
    const before = tf.memory().numTensors;
    const webgpu = await clip();
    expect(tf.memory().numTensors).toBe(before);
    const expectedNorm = Math.sqrt(15 * 5 * (1 + 4 + 9 + 16)); // each value 1-4, five times over
    expect(webgpu.norm).toBeCloseTo(expectedNorm, 3);
    expect(webgpu.norm).toBeCloseTo((await on('cpu', clip)).norm, 4);
    for (const value of webgpu.first) expect(value).toBeCloseTo(1 / expectedNorm, 5);
  });
});

describe("Parley's training loop on webgpu", () => {
  it('train() (clipping, AdamW, validation) runs on the GPU path and lowers the loss', async () => {
    const dir = await tinyModel({ architecture: 'llama', seed: 5 });
    const before = tf.memory().numTensors;
    const config = await readModelConfig(dir);
    const model = ARCHITECTURE_REGISTRY.llama(config, await loadCheckpoint(dir), undefined, {
      trainable: true,
    });
    try {
      const losses: number[] = [];
      const result = await train(
        fullTrainable(model),
        { train: examples, validation: examples.slice(0, 2) },
        { epochs: 6, batchSize: 2, learningRate: 1e-2, maxGradNorm: 1, evalEvery: 4, seed: 1 },
        { onStep: (m) => losses.push(m.loss) },
      );
      expect(losses).toHaveLength(12);
      expect(result.finalLoss).toBeLessThan(losses[0]! * 0.5);
      expect(result.validationLoss).not.toBeNull();
    } finally {
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('which adapters webgpu takes', () => {
  it('without being asked for a software adapter (as under auto), it never returns one', async () => {
    const dawn = await import('webgpu');
    const gpuBefore = (globalThis.navigator as { gpu?: unknown }).gpu;
    const outcome = await installWebGpu(dawn).then(
      (installed) => installed,
      (error: Error) => error,
    );
    if (outcome instanceof Error) {
      // The software adapter the tests above ran on is refused, and navigator keeps its gpu.
      expect(outcome.message).toMatch(/^the WebGPU adapter is software rendering \(.+\), not a GPU$/);
      expect((globalThis.navigator as { gpu?: unknown }).gpu).toBe(gpuBefore);
    } else {
      expect(outcome.software).toBe(false);
    }
  });
});

describe('TFJS_BACKEND=webgpu from the command line', () => {
  it('takes the software adapter, warning on stderr that it is one', async () => {
    const dir = await tinyModel({ architecture: 'llama' });
    const result = await runCli(['model', 'info', '--model', dir], { TFJS_BACKEND: 'webgpu' });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).architecture).toBe('llama');
    expect(result.stderr).toMatch(
      /^parley: warning: the webgpu backend runs on a software adapter \(.+\): the GPU code path on the CPU, slower than wasm/m,
    );
  });
});

describe('webgpu without a Vulkan driver', () => {
  // The Vulkan loader reads its driver list from VK_DRIVER_FILES (VK_ICD_FILENAMES before 1.3.207):
  // pointing both at nothing is a machine where Mesa's driver is not installed.
  const noDriver = { VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' };

  it('TFJS_BACKEND=webgpu fails, saying what to install', async () => {
    const dir = await tinyModel({ architecture: 'llama' });
    const result = await runCli(['model', 'logits', '--model', dir, '--ids', '1,2'], {
      ...noDriver,
      TFJS_BACKEND: 'webgpu',
    });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('TFJS_BACKEND=webgpu cannot be used: WebGPU found no adapter');
    expect(result.stderr).toContain('apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers');
  });

  it('auto goes on to the next backend', async () => {
    const dir = await tinyModel({ architecture: 'llama' });
    const result = await runCli(['model', 'logits', '--model', dir, '--ids', '1,2'], {
      ...noDriver,
      TFJS_BACKEND: 'auto',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).logits).toHaveLength(2);
  });
});
