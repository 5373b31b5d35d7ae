import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelConfig, readModelConfig } from '../../../../server/ml/config.js';

// Field values as in the published config.json files of TinyLlama-1.1B, Qwen2.5-0.5B and gpt2.
const tinyLlama = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 5632,
  num_attention_heads: 32,
  num_hidden_layers: 22,
  num_key_value_heads: 4,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  vocab_size: 32000,
};
const qwen25 = {
  model_type: 'qwen2',
  hidden_size: 896,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_sliding_window: false,
  vocab_size: 151936,
};
const gpt2 = {
  model_type: 'gpt2',
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_inner: null,
  n_layer: 12,
  n_positions: 1024,
  vocab_size: 50257,
};

describe('parseModelConfig', () => {
  it.each([
    [
      'llama (TinyLlama, GQA, untied)',
      tinyLlama,
      {
        architecture: 'llama',
        numKvHeads: 4,
        headDim: 64,
        contextLength: 2048,
        tieWordEmbeddings: false,
        qkvBias: false,
        ropeTheta: 10000,
      },
    ],
    [
      'qwen2 (tied, q/k/v biases)',
      qwen25,
      {
        architecture: 'qwen2',
        numHeads: 14,
        numKvHeads: 2,
        headDim: 64,
        tieWordEmbeddings: true,
        qkvBias: true,
        normEps: 1e-6,
        ropeTheta: 1e6,
      },
    ],
    [
      'gpt2 (n_inner null means 4 × n_embd)',
      gpt2,
      {
        architecture: 'gpt2',
        hiddenSize: 768,
        intermediateSize: 3072,
        numLayers: 12,
        numKvHeads: 12,
        headDim: 64,
        contextLength: 1024,
        tieWordEmbeddings: true,
      },
    ],
    [
      'llama without num_key_value_heads, rope_theta or tie_word_embeddings (HF defaults)',
      { ...tinyLlama, num_key_value_heads: undefined, rope_theta: undefined, tie_word_embeddings: undefined },
      { numKvHeads: 32, ropeTheta: 10000, tieWordEmbeddings: false },
    ],
    ['llama with an explicit head_dim', { ...tinyLlama, head_dim: 128 }, { headDim: 128 }],
    ['llama with attention_bias', { ...tinyLlama, attention_bias: true }, { qkvBias: true }],
  ])('reads %s', (_, raw, expected) => {
    expect(parseModelConfig(raw)).toMatchObject(expected);
  });

  it.each([
    [
      'an unknown model_type',
      { ...tinyLlama, model_type: 'mistral' },
      'unsupported model_type "mistral"; supported: llama, qwen2, gpt2',
    ],
    ['no model_type', { hidden_size: 8 }, 'unsupported model_type undefined; supported: llama, qwen2, gpt2'],
    ['null', null, 'unsupported model_type undefined'],
    ['a missing hidden_size', { ...tinyLlama, hidden_size: undefined }, 'hidden_size'],
    ['a fractional layer count', { ...tinyLlama, num_hidden_layers: 2.5 }, 'num_hidden_layers'],
    [
      'heads that do not divide into kv heads',
      { ...tinyLlama, num_key_value_heads: 5 },
      'not a multiple of num_key_value_heads 5',
    ],
    [
      'a hidden size that does not split into heads',
      { ...tinyLlama, hidden_size: 2050 },
      'not a multiple of num_attention_heads',
    ],
    ['an odd head dimension', { ...tinyLlama, head_dim: 63 }, 'even head dimension'],
    [
      'linear rope_scaling',
      { ...tinyLlama, rope_scaling: { type: 'linear', factor: 2 } },
      'rope_scaling type "linear" is not supported; supported: llama3',
    ],
    [
      'llama3 rope_scaling without its factors',
      { ...tinyLlama, rope_scaling: { rope_type: 'llama3', factor: 8 } },
      'rope_scaling:',
    ],
    [
      'llama3 rope_scaling with high_freq_factor not above low_freq_factor',
      {
        ...tinyLlama,
        rope_scaling: {
          rope_type: 'llama3',
          factor: 8,
          low_freq_factor: 4,
          high_freq_factor: 1,
          original_max_position_embeddings: 8192,
        },
      },
      'high_freq_factor must exceed low_freq_factor',
    ],
    [
      'a gpt2 activation other than gelu_new',
      { ...gpt2, activation_function: 'relu' },
      'only gelu_new is supported',
    ],
    ['gpt2 with n_embd not a multiple of n_head', { ...gpt2, n_head: 7 }, 'not a multiple of n_head 7'],
  ])('rejects %s', (_, raw, message) => {
    expect(() => parseModelConfig(raw)).toThrow(message);
  });
});

describe('Llama 3 rope_scaling', () => {
  it('reads the llama3 parameters that Llama 3.1 and 3.2 configs carry', () => {
    const config = parseModelConfig({
      ...tinyLlama,
      rope_theta: 500_000,
      rope_scaling: {
        rope_type: 'llama3',
        factor: 32,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8192,
      },
    });
    expect(config.ropeScaling).toEqual({
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
    expect(parseModelConfig({ ...tinyLlama, rope_scaling: { rope_type: 'default' } }).ropeScaling).toBeNull();
  });
});

describe('readModelConfig', () => {
  it('reads config.json from a directory and names the file when it is missing or not JSON', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-config-'));
    try {
      await expect(readModelConfig(dir)).rejects.toThrow(/cannot read .*config\.json/);
      await writeFile(path.join(dir, 'config.json'), '{ nope');
      await expect(readModelConfig(dir)).rejects.toThrow(/config\.json is not JSON/);
      await writeFile(path.join(dir, 'config.json'), JSON.stringify(qwen25));
      expect((await readModelConfig(dir)).vocabSize).toBe(151936);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
