import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURE_REGISTRY } from '../../../../server/ml/architectures/registry.js';
import { type Architecture, type ModelConfig, readModelConfig } from '../../../../server/ml/config.js';
import { createLoraModel, LoraAdapter, type LoraOptions } from '../../../../server/ml/lora.js';
import { checkpointFromTensors, mergeLoraWeights } from '../../../../server/ml/lora-merge.js';
import { weightName } from '../../../../server/ml/lora-modules.js';
import { type Checkpoint, loadCheckpoint } from '../../../../server/ml/safetensors.js';
import {
  type TinyCheckpointOptions,
  writeTinyCheckpoint,
} from '../../../../server/ml/testing/tiny-checkpoint.js';
import { referenceMergedWeights } from './reference/lora.js';

let root: string;
let count = 0;
beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-lora-merge-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const IDS = [5, 17, 42, 0, 63, 17, 8, 30];

async function tinyBase(
  options: TinyCheckpointOptions,
): Promise<{ config: ModelConfig; checkpoint: Checkpoint }> {
  const dir = path.join(root, `m${count++}`);
  await writeTinyCheckpoint(dir, { seed: 3, ...options });
  return { config: await readModelConfig(dir), checkpoint: await loadCheckpoint(dir) };
}

function rows(logits: tf.Tensor2D): number[][] {
  const values = logits.arraySync();
  logits.dispose();
  return values;
}

function maxAbsDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let max = 0;
  for (const [i, r] of a.entries())
    for (let j = 0; j < r.length; j++) max = Math.max(max, Math.abs(r[j]! - b[i]![j]!));
  return max;
}

function adapterWithRandomB(config: ModelConfig, options: LoraOptions): LoraAdapter {
  const adapter = LoraAdapter.create(config, { seed: 2, ...options });
  for (const [i, p] of adapter.pairs.entries()) {
    tf.tidy(() => p.b.assign(tf.randomNormal(p.b.shape, 0, 0.5, 'float32', 40 + i)));
  }
  return adapter;
}

describe('merging a LoRA adapter into the base weights', () => {
  it.each<[Architecture, Partial<TinyCheckpointOptions>, LoraOptions]>([
    ['llama', {}, { r: 4, alpha: 8 }],
    ['llama', { tieWordEmbeddings: true, dtype: 'BF16' }, { targetModules: 'all-linear', r: 2, alpha: 6 }],
    ['qwen2', {}, { targetModules: ['q_proj', 'k_proj', 'up_proj'], r: 3, alpha: 3 }],
    ['gpt2', {}, { r: 4, alpha: 16 }],
    ['gpt2', { dtype: 'F16' }, { targetModules: 'all-linear', r: 2, alpha: 2 }],
  ])(
    '%s %j %j: merged logits equal the unmerged adapter within 1e-5',
    async (architecture, extra, options) => {
      const { config, checkpoint } = await tinyBase({ architecture, ...extra });
      const before = tf.memory().numTensors;
      const adapter = adapterWithRandomB(config, options);
      const base = ARCHITECTURE_REGISTRY[architecture](config, checkpoint);
      const unmerged = createLoraModel(config, checkpoint, adapter);
      const merged = ARCHITECTURE_REGISTRY[architecture](
        config,
        checkpointFromTensors(mergeLoraWeights(checkpoint, adapter), 'merged'),
      );
      try {
        const expected = rows(unmerged.forward(IDS));
        const actual = rows(merged.forward(IDS));
        expect(maxAbsDiff(actual, expected)).toBeLessThan(1e-5); // measured: up to 6e-6 (gpt2)
        expect(maxAbsDiff(rows(base.forward(IDS)), expected)).toBeGreaterThan(1e-2);
      } finally {
        for (const m of [base, unmerged, merged]) m.dispose();
        adapter.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it.each<[Architecture, LoraOptions]>([
    ['llama', { targetModules: 'all-linear', r: 3, alpha: 7 }],
    ['gpt2', { targetModules: 'all-linear', r: 3, alpha: 7 }],
  ])(
    '%s: each merged weight equals W + (alpha/r)·B·A from float64 (transposed for Conv1D); other tensors are unchanged',
    async (architecture, options) => {
      const { config, checkpoint } = await tinyBase({ architecture });
      const before = tf.memory().numTensors;
      const adapter = adapterWithRandomB(config, options);
      try {
        const merged = mergeLoraWeights(checkpoint, adapter);
        const pairs = adapter.pairs.map((p) => ({
          weightName: weightName(p.module, true),
          fanInFanOut: p.module.fanInFanOut,
          a: p.a.arraySync(),
          b: p.b.arraySync(),
        }));
        const reference = referenceMergedWeights(checkpoint, pairs, adapter.scaling);
        const adapted = new Set(pairs.map((p) => p.weightName));
        expect(Object.keys(merged).sort()).toEqual(checkpoint.names().sort());
        for (const [name, t] of Object.entries(merged)) {
          const expected = reference.get(name).data;
          expect(maxAbsDiff([t.data], [expected]), name).toBeLessThan(1e-6);
          const original = checkpoint.get(name).data;
          if (adapted.has(name)) expect(maxAbsDiff([t.data], [original]), name).toBeGreaterThan(1e-3);
          else expect(t.data, name).toEqual(original);
        }
      } finally {
        adapter.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('a fresh adapter (B = 0) merges to bit-identical weights', async () => {
    const { config, checkpoint } = await tinyBase({ architecture: 'qwen2' });
    const adapter = LoraAdapter.create(config, { targetModules: 'all-linear' });
    const merged = mergeLoraWeights(checkpoint, adapter);
    for (const name of checkpoint.names()) expect(merged[name]!.data).toEqual(checkpoint.get(name).data);
    adapter.dispose();
  });

  it('merges into gpt2 checkpoints that use the original OpenAI naming (no "transformer." prefix)', async () => {
    const { config, checkpoint } = await tinyBase({ architecture: 'gpt2' });
    const bare = checkpointFromTensors(
      Object.fromEntries(checkpoint.names().map((n) => [n.replace(/^transformer\./, ''), checkpoint.get(n)])),
      'bare',
    );
    const adapter = adapterWithRandomB(config, {});
    const prefixed = mergeLoraWeights(checkpoint, adapter);
    const unprefixed = mergeLoraWeights(bare, adapter);
    expect(unprefixed['h.0.attn.c_attn.weight']!.data).toEqual(
      prefixed['transformer.h.0.attn.c_attn.weight']!.data,
    );
    adapter.dispose();
  });

  it.each<[string, TinyCheckpointOptions, TinyCheckpointOptions, RegExp]>([
    [
      'a base of other dimensions',
      { architecture: 'llama', hiddenSize: 16 },
      { architecture: 'llama' },
      /q_proj\.weight has shape \[32, 32\], expected \[16, 16\]/,
    ],
    [
      'a base without the adapted projection',
      { architecture: 'gpt2', numLayers: 3 },
      { architecture: 'gpt2' },
      /has no tensor transformer\.h\.2\.attn\.c_attn\.weight/,
    ],
  ])('merging into %s fails clearly and leaves no tensor behind', async (_, adapterBase, target, message) => {
    const { config } = await tinyBase(adapterBase);
    const { checkpoint } = await tinyBase(target);
    const adapter = LoraAdapter.create(config);
    const before = tf.memory().numTensors;
    expect(() => mergeLoraWeights(checkpoint, adapter)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
    adapter.dispose();
  });
});
