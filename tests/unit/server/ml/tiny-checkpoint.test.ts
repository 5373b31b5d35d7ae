import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelConfig } from '../../../../server/ml/config.js';
import { loadCheckpoint } from '../../../../server/ml/safetensors.js';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-tiny-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const dirFor = (name: string) => path.join(root, name);

// The names and shapes that transformers' save_pretrained writes for these (one-layer) models.
const llamaLayer = (q: number, kv: number, h: number, i: number) => ({
  'model.layers.0.input_layernorm.weight': [h],
  'model.layers.0.self_attn.q_proj.weight': [q, h],
  'model.layers.0.self_attn.k_proj.weight': [kv, h],
  'model.layers.0.self_attn.v_proj.weight': [kv, h],
  'model.layers.0.self_attn.o_proj.weight': [h, q],
  'model.layers.0.post_attention_layernorm.weight': [h],
  'model.layers.0.mlp.gate_proj.weight': [i, h],
  'model.layers.0.mlp.up_proj.weight': [i, h],
  'model.layers.0.mlp.down_proj.weight': [h, i],
});

describe('writeTinyCheckpoint', () => {
  it.each([
    [
      'llama, untied',
      {
        architecture: 'llama',
        numLayers: 1,
        hiddenSize: 16,
        numHeads: 4,
        numKvHeads: 2,
        intermediateSize: 24,
        vocabSize: 40,
      },
      {
        'model.embed_tokens.weight': [40, 16],
        ...llamaLayer(16, 8, 16, 24),
        'model.norm.weight': [16],
        'lm_head.weight': [40, 16],
      },
    ],
    [
      'qwen2, tied: q/k/v biases and no lm_head',
      {
        architecture: 'qwen2',
        numLayers: 1,
        hiddenSize: 16,
        numHeads: 4,
        numKvHeads: 1,
        intermediateSize: 24,
        vocabSize: 40,
        tieWordEmbeddings: true,
      },
      {
        'model.embed_tokens.weight': [40, 16],
        ...llamaLayer(16, 4, 16, 24),
        'model.layers.0.self_attn.q_proj.bias': [16],
        'model.layers.0.self_attn.k_proj.bias': [4],
        'model.layers.0.self_attn.v_proj.bias': [4],
        'model.norm.weight': [16],
      },
    ],
    [
      'gpt2: Conv1D weights stored [in, out]',
      {
        architecture: 'gpt2',
        numLayers: 1,
        hiddenSize: 16,
        numHeads: 4,
        intermediateSize: 24,
        vocabSize: 40,
        contextLength: 20,
      },
      {
        'transformer.wte.weight': [40, 16],
        'transformer.wpe.weight': [20, 16],
        'transformer.h.0.ln_1.weight': [16],
        'transformer.h.0.ln_1.bias': [16],
        'transformer.h.0.attn.c_attn.weight': [16, 48],
        'transformer.h.0.attn.c_attn.bias': [48],
        'transformer.h.0.attn.c_proj.weight': [16, 16],
        'transformer.h.0.attn.c_proj.bias': [16],
        'transformer.h.0.ln_2.weight': [16],
        'transformer.h.0.ln_2.bias': [16],
        'transformer.h.0.mlp.c_fc.weight': [16, 24],
        'transformer.h.0.mlp.c_fc.bias': [24],
        'transformer.h.0.mlp.c_proj.weight': [24, 16],
        'transformer.h.0.mlp.c_proj.bias': [16],
        'transformer.ln_f.weight': [16],
        'transformer.ln_f.bias': [16],
      },
    ],
  ] as const)(
    'writes %s with the HF tensor names and shapes and a config that parses',
    async (name, options, expected) => {
      const dir = dirFor(name.replace(/\W+/g, '-'));
      await writeTinyCheckpoint(dir, { ...options, dtype: 'BF16' });
      const checkpoint = await loadCheckpoint(dir);
      const shapes = Object.fromEntries(checkpoint.names().map((n) => [n, checkpoint.get(n).shape]));
      expect(shapes).toEqual(expected);
      expect(checkpoint.dtypes()).toEqual(new Map([['BF16', expect.any(Number)]]));
      const config = await readModelConfig(dir);
      expect(config).toMatchObject({
        architecture: options.architecture,
        numLayers: 1,
        hiddenSize: 16,
        vocabSize: 40,
        torchDtype: 'bfloat16',
      });
    },
  );

  it('is deterministic for a seed and differs between seeds', async () => {
    const file = async (name: string, seed: number) => {
      await writeTinyCheckpoint(dirFor(name), { architecture: 'llama', seed });
      return readFile(path.join(dirFor(name), 'model.safetensors'));
    };
    const [a, b, c] = [await file('seed-a', 7), await file('seed-b', 7), await file('seed-c', 8)];
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('writes shards with an index when asked, holding the same tensors', async () => {
    const { tensors } = await writeTinyCheckpoint(dirFor('sharded'), {
      architecture: 'qwen2',
      maxShardBytes: 8192,
    });
    const index = JSON.parse(
      await readFile(path.join(dirFor('sharded'), 'model.safetensors.index.json'), 'utf-8'),
    );
    expect(new Set(Object.values(index.weight_map)).size).toBeGreaterThan(1);
    const checkpoint = await loadCheckpoint(dirFor('sharded'));
    expect(checkpoint.names().sort()).toEqual(Object.keys(tensors).sort());
    expect(checkpoint.get('model.norm.weight').data).toEqual(tensors['model.norm.weight']!.data);
  });
});
