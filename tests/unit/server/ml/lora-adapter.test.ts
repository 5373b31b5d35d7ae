import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Architecture, readModelConfig } from '../../../../server/ml/config.js';
import { createLoraModel, LoraAdapter, type LoraOptions } from '../../../../server/ml/lora.js';
import {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  loadAdapter,
  loadModelWithAdapter,
  saveAdapter,
} from '../../../../server/ml/lora-adapter.js';
import {
  decodeToFloat32,
  type FloatTensor,
  loadCheckpoint,
  parseSafetensors,
  writeSafetensors,
} from '../../../../server/ml/safetensors.js';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';

let root: string;
let count = 0;
beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-lora-adapter-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const IDS = [5, 17, 42, 0, 63, 17, 8, 30];
const fresh = () => path.join(root, `d${count++}`);

async function tinyBaseDir(architecture: Architecture): Promise<string> {
  const dir = fresh();
  await writeTinyCheckpoint(dir, { architecture, seed: 3 });
  return dir;
}

/** Logits of the base at `dir` (loaded afresh) with `adapter`. */
async function logitsWith(dir: string, adapter: LoraAdapter): Promise<number[][]> {
  const model = createLoraModel(await readModelConfig(dir), await loadCheckpoint(dir), adapter);
  try {
    const logits = model.forward(IDS);
    const values = logits.arraySync();
    logits.dispose();
    return values;
  } finally {
    model.dispose();
  }
}

/** A saved adapter with nonzero B, in a directory of its own. */
async function savedAdapter(
  base: string,
  options: LoraOptions,
): Promise<{ dir: string; logits: number[][] }> {
  const config = await readModelConfig(base);
  const adapter = LoraAdapter.create(config, { seed: 4, ...options });
  try {
    for (const [i, p] of adapter.pairs.entries()) {
      tf.tidy(() => p.b.assign(tf.randomNormal(p.b.shape, 0, 0.5, 'float32', 20 + i)));
    }
    const dir = fresh();
    await mkdir(dir);
    await saveAdapter(dir, adapter, { baseModelNameOrPath: 'org/tiny-base' });
    return { dir, logits: await logitsWith(base, adapter) };
  } finally {
    adapter.dispose();
  }
}

describe('PEFT adapter save and load', () => {
  it.each<[Architecture, LoraOptions, Record<string, number[]>]>([
    [
      'llama',
      { r: 4, alpha: 8, dropout: 0.05 },
      {
        'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': [4, 32],
        'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight': [32, 4],
        'base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight': [4, 32],
        'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight': [16, 4],
      },
    ],
    [
      'qwen2',
      { targetModules: 'all-linear', r: 2, alpha: 3 },
      {
        'base_model.model.model.layers.1.mlp.down_proj.lora_A.weight': [2, 64],
        'base_model.model.model.layers.1.mlp.down_proj.lora_B.weight': [32, 2],
        'base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight': [16, 2],
      },
    ],
    [
      'gpt2',
      { targetModules: ['c_attn', 'c_fc'], r: 4, alpha: 4 },
      {
        'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight': [4, 32],
        'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight': [96, 4],
        'base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight': [4, 32],
        'base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight': [64, 4],
      },
    ],
  ])(
    '%s %j: saved with PEFT names and shapes, reloaded onto a fresh base with identical logits',
    async (architecture, options, shapes) => {
      const base = await tinyBaseDir(architecture);
      const before = tf.memory().numTensors;
      const { dir, logits } = await savedAdapter(base, options);

      const file = parseSafetensors(await readFile(path.join(dir, ADAPTER_WEIGHTS)));
      for (const [name, shape] of Object.entries(shapes)) {
        expect(file.tensors.get(name)?.shape, name).toEqual(shape);
        expect(file.tensors.get(name)?.dtype).toBe('F32');
      }
      expect(
        [...file.tensors.keys()].every((n) => /^base_model\.model\..+\.lora_[AB]\.weight$/.test(n)),
      ).toBe(true);

      const peft = JSON.parse(await readFile(path.join(dir, ADAPTER_CONFIG), 'utf-8'));
      expect(peft).toMatchObject({
        peft_type: 'LORA',
        task_type: 'CAUSAL_LM',
        bias: 'none',
        base_model_name_or_path: 'org/tiny-base',
        r: options.r,
        lora_alpha: options.alpha,
        lora_dropout: options.dropout ?? 0,
        fan_in_fan_out: architecture === 'gpt2',
      });

      const { adapter, baseModelNameOrPath } = await loadAdapter(dir, await readModelConfig(base));
      try {
        expect(baseModelNameOrPath).toBe('org/tiny-base');
        expect(adapter.pairs.length * 2).toBe(file.tensors.size);
        const reloaded = await logitsWith(base, adapter);
        expect(reloaded).toEqual(logits);
      } finally {
        adapter.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('loadModelWithAdapter gives the logits of the adapter it was saved from, and frees everything on dispose', async () => {
    const base = await tinyBaseDir('qwen2');
    const { dir, logits } = await savedAdapter(base, { targetModules: ['o_proj', 'gate_proj'], r: 3 });
    const before = tf.memory().numTensors;
    const adapted = await loadModelWithAdapter(base, dir);
    const actual = adapted.model.forward(IDS);
    expect(actual.arraySync()).toEqual(logits);
    actual.dispose();
    adapted.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads a config with every field PEFT 0.19 writes (those it does not use at their defaults)', async () => {
    const base = await tinyBaseDir('llama');
    const { dir, logits } = await savedAdapter(base, { r: 2, alpha: 4 });
    const peft019 = {
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: 'org/tiny-base',
      bias: 'none',
      corda_config: null,
      ensure_weight_tying: false,
      eva_config: null,
      exclude_modules: null,
      fan_in_fan_out: false,
      inference_mode: true,
      init_lora_weights: true,
      layer_replication: null,
      layers_pattern: null,
      layers_to_transform: null,
      loftq_config: {},
      lora_alpha: 4,
      lora_bias: false,
      lora_dropout: 0.05,
      megatron_config: null,
      megatron_core: 'megatron.core',
      modules_to_save: null,
      peft_type: 'LORA',
      peft_version: '0.19.1',
      qalora_group_size: 16,
      r: 2,
      rank_pattern: {},
      revision: null,
      target_modules: ['v_proj', 'q_proj'],
      target_parameters: null,
      task_type: 'CAUSAL_LM',
      trainable_token_indices: null,
      use_dora: false,
      use_qalora: false,
      use_rslora: false,
    };
    await writeFile(path.join(dir, ADAPTER_CONFIG), JSON.stringify(peft019, null, 2));
    const before = tf.memory().numTensors;
    const { adapter } = await loadAdapter(dir, await readModelConfig(base));
    expect(adapter.settings).toMatchObject({ r: 2, alpha: 4, dropout: 0.05 });
    expect(await logitsWith(base, adapter)).toEqual(logits);
    adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('target_modules lists the expanded names, so that PEFT sees what all-linear resolved to', async () => {
    const base = await tinyBaseDir('gpt2');
    const { dir } = await savedAdapter(base, { targetModules: 'all-linear' });
    const peft = JSON.parse(await readFile(path.join(dir, ADAPTER_CONFIG), 'utf-8'));
    expect(peft.target_modules).toEqual(['c_attn', 'c_fc', 'c_proj']);
  });

  it('reads adapters stored in bf16, as PEFT often saves them', async () => {
    const base = await tinyBaseDir('llama');
    const { dir } = await savedAdapter(base, { r: 2 });
    const file = parseSafetensors(await readFile(path.join(dir, ADAPTER_WEIGHTS)));
    const tensors: Record<string, FloatTensor> = {};
    for (const [name, t] of file.tensors) {
      tensors[name] = { shape: t.shape, data: decodeToFloat32(t.bytes, t.dtype) };
    }
    await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors, 'BF16');
    const before = tf.memory().numTensors;
    const { adapter } = await loadAdapter(dir, await readModelConfig(base));
    const a = adapter.pairs[0]!.a.dataSync();
    const bits = new Uint32Array(Float32Array.from(a).buffer);
    expect(bits.every((b) => (b & 0xffff) === 0)).toBe(true);
    expect(a.some((v) => v !== 0)).toBe(true);
    adapter.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  type Edit = (config: Record<string, unknown>, tensors: Record<string, FloatTensor>) => void;
  const q0A = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
  it.each<[string, Edit, RegExp]>([
    ['another peft_type', (c) => (c.peft_type = 'IA3'), /peft_type: only LORA adapters/],
    ['rsLoRA scaling', (c) => (c.use_rslora = true), /rsLoRA scaling is not supported/],
    ['DoRA', (c) => (c.use_dora = true), /DoRA is not supported/],
    ['a trained bias', (c) => (c.bias = 'all'), /only bias "none"/],
    ['a rank pattern', (c) => (c.rank_pattern = { q_proj: 4 }), /rank or alpha patterns/],
    ['a regex target', (c) => (c.target_modules = '.*q_proj'), /regular expressions are not supported/],
    ['a bias on lora_B', (c) => (c.lora_bias = true), /a bias on lora_B is not supported/],
    [
      'excluded modules',
      (c) => (c.exclude_modules = ['layers.0.self_attn.q_proj']),
      /exclude_modules is not supported/,
    ],
    ['layer replication', (c) => (c.layer_replication = [[0, 2]]), /layer_replication is not supported/],
    ['QALoRA', (c) => (c.use_qalora = true), /QALoRA is not supported/],
    ['a target the model lacks', (c) => (c.target_modules = ['c_attn']), /"c_attn" matches no linear module/],
    [
      'a missing tensor',
      (_, t) => delete t[q0A],
      /has no tensor .*layers\.0\.self_attn\.q_proj\.lora_A\.weight/,
    ],
    [
      'a tensor of the wrong shape',
      (_, t) => (t[q0A] = { shape: [2, 16], data: new Float32Array(32) }),
      /q_proj\.lora_A\.weight has shape \[2, 16\], expected \[2, 32\]/,
    ],
    [
      'r disagreeing with the tensors',
      (c) => (c.r = 3),
      /lora_A\.weight has shape \[2, 32\], expected \[3, 32\]/,
    ],
    [
      'a tensor no target selects',
      (_, t) =>
        (t['base_model.model.model.layers.0.mlp.up_proj.lora_A.weight'] = {
          shape: [2, 32],
          data: new Float32Array(64),
        }),
      /tensors that target_modules does not select .*mlp\.up_proj\.lora_A\.weight/,
    ],
  ])('loading refuses %s and leaves no tensor behind', async (_, edit, message) => {
    const base = await tinyBaseDir('llama');
    const { dir } = await savedAdapter(base, { r: 2 });
    const config = JSON.parse(await readFile(path.join(dir, ADAPTER_CONFIG), 'utf-8'));
    const file = parseSafetensors(await readFile(path.join(dir, ADAPTER_WEIGHTS)));
    const tensors: Record<string, FloatTensor> = {};
    for (const [name, t] of file.tensors) {
      tensors[name] = { shape: t.shape, data: decodeToFloat32(t.bytes, t.dtype) };
    }
    edit(config, tensors);
    await writeFile(path.join(dir, ADAPTER_CONFIG), JSON.stringify(config));
    await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors, 'F32');
    const before = tf.memory().numTensors;
    await expect(loadAdapter(dir, await readModelConfig(base))).rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loading a directory without adapter files fails clearly', async () => {
    const base = await tinyBaseDir('llama');
    await expect(loadAdapter(base, await readModelConfig(base))).rejects.toThrow(
      /cannot read .*adapter_config\.json/,
    );
  });
});
