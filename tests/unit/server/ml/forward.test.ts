import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../../server/ml/architectures/registry.js';
import type { CausalLM } from '../../../../server/ml/architectures/types.js';
import type { Architecture } from '../../../../server/ml/config.js';
import { type Dtype, loadCheckpoint, writeSafetensors } from '../../../../server/ml/safetensors.js';
import {
  type TinyCheckpointOptions,
  writeTinyCheckpoint,
} from '../../../../server/ml/testing/tiny-checkpoint.js';
import { referenceGpt2Logits } from './reference/gpt2.js';
import { referenceLlamaLogits } from './reference/llama.js';

let root: string;
let count = 0;
beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-forward-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const IDS = [5, 17, 42, 0, 63, 17, 8, 30, 30, 1, 59, 12];

async function tinyModel(options: TinyCheckpointOptions) {
  const dir = path.join(root, `m${count++}`);
  await writeTinyCheckpoint(dir, options);
  return dir;
}

/** The reference logits, computed in float64 from the same stored (rounded) weights. */
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

/** Logits as rows of numbers, disposing the tensor. */
function rows(logits: tf.Tensor2D): number[][] {
  const values = logits.arraySync();
  logits.dispose();
  return values;
}

/** Loads the model, runs `body`, disposes it, and checks that no tensor is left behind. */
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

const cases: [Architecture, Dtype, Partial<TinyCheckpointOptions>][] = [
  ['llama', 'F32', {}],
  ['llama', 'F16', {}],
  ['llama', 'BF16', {}],
  ['llama', 'F32', { tieWordEmbeddings: true, numKvHeads: 4, ropeTheta: 500_000 }],
  // Llama 3 RoPE scaling: with head_dim 8, theta 10000 and an original context of 64, the four
  // frequencies fall in all three bands (kept, interpolated, divided by the factor).
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

describe('tfjs forward against the float64 reference', () => {
  it.each(cases)(
    '%s from a %s checkpoint %j matches the reference logits at every position',
    async (architecture, dtype, extra) => {
      const dir = await tinyModel({ architecture, dtype, seed: 3, ...extra });
      const expected = await reference(dir, IDS);
      const actual = await withModel(dir, (model) => rows(model.forward(IDS)));
      expect(actual.length).toBe(IDS.length);
      expect(actual[0]!.length).toBe(64);
      const diff = maxAbsDiff(actual, expected);
      expect(diff).toBeLessThan(2e-5); // measured: about 1e-6
      // The tolerance means something only if the logits are far from trivial.
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

  it.each<Architecture>(['llama', 'qwen2', 'gpt2'])(
    '%s is causal: a later token never changes earlier logits, and an earlier one changes later logits',
    async (architecture) => {
      const dir = await tinyModel({ architecture });
      await withModel(dir, (model) => {
        const a = rows(model.forward([3, 4, 5, 6]));
        const laterChanged = rows(model.forward([3, 4, 5, 7]));
        const earlierChanged = rows(model.forward([9, 4, 5, 6]));
        expect(maxAbsDiff(a.slice(0, 3), laterChanged.slice(0, 3))).toBe(0);
        expect(maxAbsDiff(a.slice(1), earlierChanged.slice(1))).toBeGreaterThan(1e-3);
      });
    },
  );
});

describe('checkpoint naming variants', () => {
  it('gpt2 loads the original OpenAI naming (no "transformer." prefix, extra attn.bias buffers) with the same logits', async () => {
    const dir = await tinyModel({ architecture: 'gpt2', seed: 2 });
    const { tensors } = await writeTinyCheckpoint(path.join(root, 'gpt2-prefixed'), {
      architecture: 'gpt2',
      seed: 2,
    });
    const bare = path.join(root, 'gpt2-bare');
    await mkdir(bare);
    await copyFile(path.join(dir, 'config.json'), path.join(bare, 'config.json'));
    const renamed = Object.fromEntries(
      Object.entries(tensors).map(([name, t]) => [name.replace(/^transformer\./, ''), t]),
    );
    renamed['h.0.attn.bias'] = { shape: [1, 1, 64, 64], data: new Float32Array(64 * 64).fill(1) };
    await writeSafetensors(path.join(bare, 'model.safetensors'), renamed, 'F32');
    const expected = await withModel(dir, (model) => rows(model.forward(IDS)));
    const actual = await withModel(bare, (model) => rows(model.forward(IDS)));
    expect(maxAbsDiff(actual, expected)).toBe(0);
  });
});

describe('KV-cache decoding', () => {
  it.each<[Architecture, Dtype, number[]]>([
    ['llama', 'BF16', [5, 1, 1, 1, 1, 1, 1, 1]],
    ['qwen2', 'F16', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
    ['gpt2', 'F32', [4, 3, 1, 4]],
    ['qwen2', 'BF16', [12]],
  ])('%s (%s): chunks %j through the cache equal the full recompute', async (architecture, dtype, chunks) => {
    const dir = await tinyModel({ architecture, dtype, seed: 9 });
    await withModel(dir, (model) => {
      const full = rows(model.forward(IDS));
      const cache = model.createCache();
      const stepped: number[][] = [];
      let at = 0;
      for (const size of chunks) {
        stepped.push(...rows(model.forwardWithCache(IDS.slice(at, at + size), cache)));
        at += size;
        expect(cache.length).toBe(at);
      }
      cache.dispose();
      expect(maxAbsDiff(stepped, full)).toBeLessThan(1e-5);
    });
  });

  it('a step after the wrong prefix gives other logits than after the right one (negative control)', async () => {
    const dir = await tinyModel({ architecture: 'llama' });
    await withModel(dir, (model) => {
      const full = rows(model.forward(IDS.slice(0, 4)));
      const cache = model.createCache();
      rows(model.forwardWithCache([IDS[0]!, IDS[2]!, IDS[1]!], cache));
      const step = rows(model.forwardWithCache([IDS[3]!], cache));
      cache.dispose();
      expect(maxAbsDiff(step, full.slice(3))).toBeGreaterThan(1e-3);
    });
  });
});

describe('model errors', () => {
  it.each<[string, number[], RegExp]>([
    ['an id past the vocabulary', [1, 64], /token id 64 is not an integer in \[0, 64\)/],
    ['a negative id', [-1], /token id -1/],
    ['a fractional id', [2.5], /token id 2.5/],
    ['no ids', [], /no token ids/],
    [
      'more positions than the context',
      Array.from({ length: 65 }, () => 1),
      /65 positions exceed the context length 64/,
    ],
  ])('forward rejects %s', async (_, ids, message) => {
    const dir = await tinyModel({ architecture: 'gpt2' });
    await withModel(dir, (model) => {
      expect(() => model.forward(ids)).toThrow(message);
    });
  });

  it('the cache refuses steps past the context length', async () => {
    const dir = await tinyModel({ architecture: 'llama', contextLength: 8 });
    await withModel(dir, (model) => {
      const cache = model.createCache();
      rows(model.forwardWithCache([1, 2, 3, 4, 5, 6, 7], cache));
      rows(model.forwardWithCache([8], cache));
      expect(() => model.forwardWithCache([9], cache)).toThrow(/9 positions exceed the context length 8/);
      cache.dispose();
    });
  });

  it.each<[string, TinyCheckpointOptions, (config: Record<string, unknown>) => void, RegExp]>([
    [
      'an untied llama without lm_head.weight',
      { architecture: 'llama', tieWordEmbeddings: true },
      (c) => (c.tie_word_embeddings = false),
      /has no tensor lm_head\.weight/,
    ],
    [
      'weights smaller than the config says',
      { architecture: 'qwen2', hiddenSize: 16 },
      (c) => (c.hidden_size = 32),
      /model\.embed_tokens\.weight has shape \[64, 16\], expected \[64, 32\]/,
    ],
    [
      'a gpt2 with more layers in its config than in its weights',
      { architecture: 'gpt2' },
      (c) => (c.n_layer = 3),
      /has no tensor transformer\.h\.2\.ln_1\.weight/,
    ],
  ])('loading fails clearly for %s and leaves no tensor behind', async (_, options, edit, message) => {
    const dir = await tinyModel(options);
    const configPath = path.join(dir, 'config.json');
    const config = JSON.parse(await readFile(configPath, 'utf-8'));
    edit(config);
    await writeFile(configPath, JSON.stringify(config));
    const before = tf.memory().numTensors;
    await expect(loadModel(dir)).rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each<[Architecture, Partial<TinyCheckpointOptions>, number]>([
    ['llama', {}, 64 * 32 * 2 + 2 * (32 + 32 * 32 + 16 * 32 * 2 + 32 * 32 + 32 + 64 * 32 * 3) + 32],
    [
      'llama',
      { tieWordEmbeddings: true },
      64 * 32 + 2 * (32 + 32 * 32 + 16 * 32 * 2 + 32 * 32 + 32 + 64 * 32 * 3) + 32,
    ],
    [
      'qwen2',
      {},
      64 * 32 * 2 + 2 * (32 + 32 * 32 + 16 * 32 * 2 + 32 + 16 * 2 + 32 * 32 + 32 + 64 * 32 * 3) + 32,
    ],
    [
      'gpt2',
      {},
      64 * 32 + 64 * 32 + 2 * (4 * 32 + 32 * 96 + 96 + 32 * 32 + 32 + 32 * 64 + 64 + 64 * 32 + 32) + 2 * 32,
    ],
  ])('%s %j counts %d parameters, tied weights once', async (architecture, extra, expected) => {
    const dir = await tinyModel({ architecture, ...extra });
    await withModel(dir, (model) => {
      expect(model.parameterCount).toBe(expected);
    });
  });
});
