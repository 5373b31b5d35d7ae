/**
 * Writes a tiny model directory in exact Hugging Face layout (config.json, model.safetensors or
 * shards with an index) with seeded random weights, for tests and benchmarks. Nothing is
 * downloaded: the weights are noise, but the names, shapes and layouts are those of real
 * checkpoints.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seededNormal } from '../../seeded-random.js';
import type { Architecture } from '../config.js';
import {
  type Dtype,
  type FloatTensor,
  TORCH_DTYPE,
  writeSafetensors,
  writeShardedCheckpoint,
} from '../safetensors.js';

export interface TinyCheckpointOptions {
  architecture: Architecture;
  dtype?: Dtype;
  seed?: number;
  vocabSize?: number;
  hiddenSize?: number;
  numLayers?: number;
  numHeads?: number;
  /** llama and qwen2 only; gpt2 has as many kv heads as heads. */
  numKvHeads?: number;
  intermediateSize?: number;
  contextLength?: number;
  /** llama and qwen2 only; gpt2 is always tied. */
  tieWordEmbeddings?: boolean;
  ropeTheta?: number;
  /** llama only: config.json's rope_scaling, e.g. Llama 3's. */
  ropeScaling?: Record<string, unknown>;
  /** Splits model.safetensors into shards of at most this many bytes, with an index. */
  maxShardBytes?: number;
}

export interface TinyCheckpoint {
  dir: string;
  config: Record<string, unknown>;
  /** The weights as written, before rounding to the stored dtype. */
  tensors: Record<string, FloatTensor>;
}

export { seededNormal } from '../../seeded-random.js';

export async function writeTinyCheckpoint(
  dir: string,
  options: TinyCheckpointOptions,
): Promise<TinyCheckpoint> {
  const {
    architecture,
    dtype = 'F32',
    seed = 1,
    vocabSize = 64,
    hiddenSize = 32,
    numLayers = 2,
    numHeads = 4,
    intermediateSize = 64,
    contextLength = 64,
    ropeTheta = 10_000,
  } = options;
  const numKvHeads = architecture === 'gpt2' ? numHeads : (options.numKvHeads ?? 2);
  const tie = architecture === 'gpt2' ? true : (options.tieWordEmbeddings ?? false);
  const headDim = hiddenSize / numHeads;
  if (!Number.isInteger(headDim))
    throw new Error(`hiddenSize ${hiddenSize} does not split into ${numHeads} heads`);

  const normal = seededNormal(seed);
  const tensors: Record<string, FloatTensor> = {};
  const add = (name: string, shape: number[], scale: number, center = 0) => {
    const count = shape.reduce((a, b) => a * b, 1);
    tensors[name] = { shape, data: Float32Array.from({ length: count }, () => center + scale * normal()) };
  };
  // Scales keep activations O(1) through the layers so that every part of the network shows in the logits.
  const w = 1 / Math.sqrt(hiddenSize);

  let config: Record<string, unknown>;
  if (architecture === 'gpt2') {
    config = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      n_ctx: contextLength,
      n_embd: hiddenSize,
      n_head: numHeads,
      n_inner: intermediateSize,
      n_layer: numLayers,
      n_positions: contextLength,
      vocab_size: vocabSize,
      tie_word_embeddings: true,
      torch_dtype: TORCH_DTYPE[dtype],
    };
    add('transformer.wte.weight', [vocabSize, hiddenSize], 0.5);
    add('transformer.wpe.weight', [contextLength, hiddenSize], 0.2);
    for (let i = 0; i < numLayers; i++) {
      const p = `transformer.h.${i}`;
      add(`${p}.ln_1.weight`, [hiddenSize], 0.1, 1);
      add(`${p}.ln_1.bias`, [hiddenSize], 0.1);
      // Conv1D: weights stored [in, out].
      add(`${p}.attn.c_attn.weight`, [hiddenSize, 3 * hiddenSize], w);
      add(`${p}.attn.c_attn.bias`, [3 * hiddenSize], 0.1);
      add(`${p}.attn.c_proj.weight`, [hiddenSize, hiddenSize], w);
      add(`${p}.attn.c_proj.bias`, [hiddenSize], 0.1);
      add(`${p}.ln_2.weight`, [hiddenSize], 0.1, 1);
      add(`${p}.ln_2.bias`, [hiddenSize], 0.1);
      add(`${p}.mlp.c_fc.weight`, [hiddenSize, intermediateSize], w);
      add(`${p}.mlp.c_fc.bias`, [intermediateSize], 0.1);
      add(`${p}.mlp.c_proj.weight`, [intermediateSize, hiddenSize], 1 / Math.sqrt(intermediateSize));
      add(`${p}.mlp.c_proj.bias`, [hiddenSize], 0.1);
    }
    add('transformer.ln_f.weight', [hiddenSize], 0.1, 1);
    add('transformer.ln_f.bias', [hiddenSize], 0.1);
  } else {
    config = {
      architectures: [architecture === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM'],
      model_type: architecture,
      hidden_size: hiddenSize,
      intermediate_size: intermediateSize,
      num_attention_heads: numHeads,
      num_key_value_heads: numKvHeads,
      num_hidden_layers: numLayers,
      max_position_embeddings: contextLength,
      rms_norm_eps: 1e-6,
      rope_theta: ropeTheta,
      ...(options.ropeScaling ? { rope_scaling: options.ropeScaling } : {}),
      tie_word_embeddings: tie,
      torch_dtype: TORCH_DTYPE[dtype],
      vocab_size: vocabSize,
      hidden_act: 'silu',
    };
    const q = numHeads * headDim;
    const kv = numKvHeads * headDim;
    add('model.embed_tokens.weight', [vocabSize, hiddenSize], 0.5);
    for (let i = 0; i < numLayers; i++) {
      const p = `model.layers.${i}`;
      add(`${p}.input_layernorm.weight`, [hiddenSize], 0.1, 1);
      // nn.Linear: weights stored [out, in].
      add(`${p}.self_attn.q_proj.weight`, [q, hiddenSize], w);
      add(`${p}.self_attn.k_proj.weight`, [kv, hiddenSize], w);
      add(`${p}.self_attn.v_proj.weight`, [kv, hiddenSize], w);
      if (architecture === 'qwen2') {
        add(`${p}.self_attn.q_proj.bias`, [q], 0.2);
        add(`${p}.self_attn.k_proj.bias`, [kv], 0.2);
        add(`${p}.self_attn.v_proj.bias`, [kv], 0.2);
      }
      add(`${p}.self_attn.o_proj.weight`, [hiddenSize, q], 1 / Math.sqrt(q));
      add(`${p}.post_attention_layernorm.weight`, [hiddenSize], 0.1, 1);
      add(`${p}.mlp.gate_proj.weight`, [intermediateSize, hiddenSize], w);
      add(`${p}.mlp.up_proj.weight`, [intermediateSize, hiddenSize], w);
      add(`${p}.mlp.down_proj.weight`, [hiddenSize, intermediateSize], 1 / Math.sqrt(intermediateSize));
    }
    add('model.norm.weight', [hiddenSize], 0.1, 1);
    // Tied checkpoints saved by transformers carry no lm_head.weight.
    if (!tie) add('lm_head.weight', [vocabSize, hiddenSize], w);
  }

  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  if (options.maxShardBytes !== undefined) {
    await writeShardedCheckpoint(dir, tensors, dtype, options.maxShardBytes);
  } else {
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, dtype);
  }
  return { dir, config, tensors };
}
