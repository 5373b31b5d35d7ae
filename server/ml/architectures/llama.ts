/**
 * Llama: RMSNorm, rotary position embeddings (HF rotate_half convention), grouped-query attention,
 * SwiGLU MLP, lm_head tied to the embeddings or not. Qwen2 is this with q/k/v biases.
 */
import * as tf from '@tensorflow/tfjs';
import type { Llama3RopeScaling, ModelConfig } from '../config.js';
import type { Checkpoint } from '../safetensors.js';
import { causalAttention, checkIds } from './attention.js';
import type { KvCache } from './kv-cache.js';
import { ropeInverseFrequencies } from './rope.js';
import { assembleModel, type CausalLM, type LinearDelta, type ModelBuildOptions } from './types.js';
import { WeightLoader } from './weights.js';

export interface LlamaOptions {
  /** q/k/v projections carry biases (qwen2). */
  qkvBias: boolean;
}

interface LlamaLayer {
  inputNorm: tf.Tensor1D;
  q: tf.Tensor2D;
  k: tf.Tensor2D;
  v: tf.Tensor2D;
  qBias?: tf.Tensor1D;
  kBias?: tf.Tensor1D;
  vBias?: tf.Tensor1D;
  o: tf.Tensor2D;
  postNorm: tf.Tensor1D;
  gate: tf.Tensor2D;
  up: tf.Tensor2D;
  down: tf.Tensor2D;
}

export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor1D, eps: number): tf.Tensor2D {
  return x.mul(x.square().mean(-1, true).add(eps).rsqrt()).mul(weight);
}

/** x [T, in] times an nn.Linear weight stored [out, in]. */
/** x [T, in] · weightT [in, out] (+ bias): weights are held transposed, see WeightLoader.loadTransposed. */
function linear(x: tf.Tensor2D, weightT: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  const y = tf.matMul(x, weightT) as tf.Tensor2D;
  return bias ? (y.add(bias) as tf.Tensor2D) : y;
}

/** cos and sin [T, 1, D] for positions offset..offset+T-1: HF's cat(freqs, freqs) layout. */
export function ropeTables(
  offset: number,
  t: number,
  headDim: number,
  theta: number,
  scaling: Llama3RopeScaling | null = null,
): [tf.Tensor3D, tf.Tensor3D] {
  const half = headDim / 2;
  const inverse = ropeInverseFrequencies(headDim, theta, scaling);
  const cos = new Float32Array(t * headDim);
  const sin = new Float32Array(t * headDim);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < half; j++) {
      const angle = (offset + i) * inverse[j]!;
      cos[i * headDim + j] = cos[i * headDim + j + half] = Math.cos(angle);
      sin[i * headDim + j] = sin[i * headDim + j + half] = Math.sin(angle);
    }
  }
  return [tf.tensor3d(cos, [t, 1, headDim]), tf.tensor3d(sin, [t, 1, headDim])];
}

/** x * cos + rotate_half(x) * sin, with rotate_half(x) = cat(-x2, x1). x [T, H, D]. */
export function applyRope(x: tf.Tensor3D, cos: tf.Tensor3D, sin: tf.Tensor3D): tf.Tensor3D {
  const [x1, x2] = tf.split(x, 2, -1) as [tf.Tensor3D, tf.Tensor3D]; // each [T, H, D/2]
  const rotated = tf.concat([x2.neg(), x1], -1); // [T, H, D]
  return x.mul(cos).add(rotated.mul(sin));
}

export function createLlama(
  config: ModelConfig,
  checkpoint: Checkpoint,
  options: LlamaOptions,
  adapter?: LinearDelta,
  build: ModelBuildOptions = {},
): CausalLM {
  const {
    hiddenSize: h,
    intermediateSize: inter,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize,
    numLayers,
  } = config;
  const weights = new WeightLoader(checkpoint, '', { trainable: build.trainable ?? false });
  const { embed, layers, finalNorm, lmHead } = weights.build(() => {
    const qOut = numHeads * headDim;
    const kvOut = numKvHeads * headDim;
    const embed = weights.load<tf.Rank.R2>('model.embed_tokens.weight', [vocabSize, h]);
    const layers: LlamaLayer[] = [];
    for (let i = 0; i < numLayers; i++) {
      const p = `model.layers.${i}`;
      layers.push({
        inputNorm: weights.load(`${p}.input_layernorm.weight`, [h]),
        q: weights.loadTransposed(`${p}.self_attn.q_proj.weight`, [qOut, h]),
        k: weights.loadTransposed(`${p}.self_attn.k_proj.weight`, [kvOut, h]),
        v: weights.loadTransposed(`${p}.self_attn.v_proj.weight`, [kvOut, h]),
        ...(options.qkvBias
          ? {
              qBias: weights.load(`${p}.self_attn.q_proj.bias`, [qOut]),
              kBias: weights.load(`${p}.self_attn.k_proj.bias`, [kvOut]),
              vBias: weights.load(`${p}.self_attn.v_proj.bias`, [kvOut]),
            }
          : {}),
        o: weights.loadTransposed(`${p}.self_attn.o_proj.weight`, [h, qOut]),
        postNorm: weights.load(`${p}.post_attention_layernorm.weight`, [h]),
        gate: weights.loadTransposed(`${p}.mlp.gate_proj.weight`, [inter, h]),
        up: weights.loadTransposed(`${p}.mlp.up_proj.weight`, [inter, h]),
        down: weights.loadTransposed(`${p}.mlp.down_proj.weight`, [h, inter]),
      });
    }
    const finalNorm = weights.load<tf.Rank.R1>('model.norm.weight', [h]);
    // Tied and trainable: transposed inside each pass, so that gradients reach the embeddings.
    const lmHead = config.tieWordEmbeddings
      ? weights.trainable
        ? null
        : weights.derive(embed.transpose() as tf.Tensor2D) // [vocab, h] -> [h, vocab]
      : weights.loadTransposed('lm_head.weight', [vocabSize, h]);
    return { embed, layers, finalNorm, lmHead };
  });
  const parameterCount = weights.parameterCount;

  const forwardWithCache = (ids: number[], cache: KvCache): tf.Tensor2D => {
    if (cache.numLayers !== numLayers)
      throw new Error(`KV cache has ${cache.numLayers} layers, model ${numLayers}`);
    const offset = cache.length;
    checkIds(ids, vocabSize, offset, config.contextLength);
    const t = ids.length;
    const logits = tf.tidy(() => {
      const project = (module: string, x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D) => {
        const y = linear(x, weight, bias);
        const delta = adapter?.delta(module, x);
        return delta ? (y.add(delta) as tf.Tensor2D) : y;
      };
      const [cos, sin] = ropeTables(offset, t, headDim, config.ropeTheta, config.ropeScaling);
      let x = tf.gather(embed, tf.tensor1d(ids, 'int32')); // [T, hidden]
      for (const [i, layer] of layers.entries()) {
        const attn = `model.layers.${i}.self_attn`;
        const mlp = `model.layers.${i}.mlp`;
        const normed = rmsNorm(x, layer.inputNorm, config.normEps);
        const q = applyRope(
          project(`${attn}.q_proj`, normed, layer.q, layer.qBias).reshape([t, numHeads, headDim]),
          cos,
          sin,
        ); // [T, H * D] -> [T, H, D]
        const k = applyRope(
          project(`${attn}.k_proj`, normed, layer.k, layer.kBias).reshape([t, numKvHeads, headDim]),
          cos,
          sin,
        ); // [T, Hkv * D] -> [T, Hkv, D]
        const v = project(`${attn}.v_proj`, normed, layer.v, layer.vBias).reshape([
          t,
          numKvHeads,
          headDim,
        ]) as tf.Tensor3D; // [T, Hkv * D] -> [T, Hkv, D]
        const [allK, allV] = cache.append(i, k, v);
        x = x.add(project(`${attn}.o_proj`, causalAttention(q, allK, allV, offset), layer.o));
        const normed2 = rmsNorm(x, layer.postNorm, config.normEps);
        const gate = project(`${mlp}.gate_proj`, normed2, layer.gate); // [T, I]
        const swiglu = gate
          .mul(gate.sigmoid())
          .mul(project(`${mlp}.up_proj`, normed2, layer.up)) as tf.Tensor2D; // silu(gate) * up
        x = x.add(project(`${mlp}.down_proj`, swiglu, layer.down));
      }
      const last = rmsNorm(x, finalNorm, config.normEps);
      if (lmHead) return linear(last, lmHead); // [T, vocab]
      // Tied and trainable: multiply by the embeddings as stored, [vocab, h], transposed by matMul
      // itself; its gradient then lands in the embeddings' layout, with no [vocab, h] transposes.
      return tf.matMul(last, embed, false, true) as tf.Tensor2D; // [T, vocab]
    });
    cache.commit(t);
    return logits;
  };

  return assembleModel({
    config,
    parameterCount,
    numLayers,
    forwardWithCache,
    weights: weights.weights,
    dispose: () => weights.dispose(),
  });
}

export function createLlamaModel(
  config: ModelConfig,
  checkpoint: Checkpoint,
  adapter?: LinearDelta,
  build?: ModelBuildOptions,
): CausalLM {
  return createLlama(config, checkpoint, { qkvBias: config.qkvBias }, adapter, build);
}
