/**
 * GPT-2: learned position embeddings, LayerNorm, gelu_new, Conv1D weights stored [in, out], lm_head
 * tied to the token embeddings.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config.js';
import type { Checkpoint } from '../safetensors.js';
import { causalAttention, checkIds } from './attention.js';
import type { KvCache } from './kv-cache.js';
import { assembleModel, type CausalLM, type LinearDelta, type ModelBuildOptions } from './types.js';
import { WeightLoader } from './weights.js';

interface Gpt2Layer {
  ln1: [tf.Tensor1D, tf.Tensor1D];
  attn: [tf.Tensor2D, tf.Tensor1D];
  attnProj: [tf.Tensor2D, tf.Tensor1D];
  ln2: [tf.Tensor1D, tf.Tensor1D];
  fc: [tf.Tensor2D, tf.Tensor1D];
  proj: [tf.Tensor2D, tf.Tensor1D];
}

export function layerNorm(
  x: tf.Tensor2D,
  [weight, bias]: [tf.Tensor1D, tf.Tensor1D],
  eps: number,
): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(variance.add(eps).rsqrt()).mul(weight).add(bias);
}

/** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): HF's NewGELUActivation. */
export function geluNew(x: tf.Tensor2D): tf.Tensor2D {
  const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(inner.tanh().add(1));
}

/** Conv1D: x [T, in] @ weight [in, out] + bias. */
function conv1d(x: tf.Tensor2D, [weight, bias]: [tf.Tensor2D, tf.Tensor1D]): tf.Tensor2D {
  return tf.matMul(x, weight).add(bias);
}

export function createGpt2Model(
  config: ModelConfig,
  checkpoint: Checkpoint,
  adapter?: LinearDelta,
  build: ModelBuildOptions = {},
): CausalLM {
  const {
    hiddenSize: e,
    intermediateSize: inter,
    numHeads,
    headDim,
    vocabSize,
    numLayers,
    contextLength,
  } = config;
  // save_pretrained of GPT2LMHeadModel prefixes "transformer."; the original OpenAI upload does not.
  const prefix = checkpoint.has('transformer.wte.weight') ? 'transformer.' : '';
  const weights = new WeightLoader(checkpoint, prefix, { trainable: build.trainable ?? false });
  const { wte, wteT, wpe, layers, lnF } = weights.build(() => {
    const pair = (name: string, inDim: number, outDim: number): [tf.Tensor2D, tf.Tensor1D] => [
      weights.load(`${name}.weight`, [inDim, outDim]),
      weights.load(`${name}.bias`, [outDim]),
    ];
    const norm = (name: string): [tf.Tensor1D, tf.Tensor1D] => [
      weights.load(`${name}.weight`, [e]),
      weights.load(`${name}.bias`, [e]),
    ];
    const wte = weights.load<tf.Rank.R2>('wte.weight', [vocabSize, e]);
    const wpe = weights.load<tf.Rank.R2>('wpe.weight', [contextLength, e]);
    const layers: Gpt2Layer[] = [];
    for (let i = 0; i < numLayers; i++) {
      const p = `h.${i}`;
      layers.push({
        ln1: norm(`${p}.ln_1`),
        attn: pair(`${p}.attn.c_attn`, e, 3 * e),
        attnProj: pair(`${p}.attn.c_proj`, e, e),
        ln2: norm(`${p}.ln_2`),
        fc: pair(`${p}.mlp.c_fc`, e, inter),
        proj: pair(`${p}.mlp.c_proj`, inter, e),
      });
    }
    const lnF = norm('ln_f');
    // The tied lm_head as [e, vocab]: wasm multiplies by a transposed operand several times slower.
    // Trainable: transposed inside each pass, so that gradients reach the embeddings.
    const wteT = weights.trainable ? null : weights.derive(wte.transpose() as tf.Tensor2D);
    return { wte, wteT, wpe, layers, lnF };
  });
  const parameterCount = weights.parameterCount;

  const forwardWithCache = (ids: number[], cache: KvCache): tf.Tensor2D => {
    if (cache.numLayers !== numLayers)
      throw new Error(`KV cache has ${cache.numLayers} layers, model ${numLayers}`);
    const offset = cache.length;
    checkIds(ids, vocabSize, offset, contextLength);
    const t = ids.length;
    const logits = tf.tidy(() => {
      const project = (module: string, x: tf.Tensor2D, weights: [tf.Tensor2D, tf.Tensor1D]) => {
        const y = conv1d(x, weights);
        const delta = adapter?.delta(module, x);
        return delta ? (y.add(delta) as tf.Tensor2D) : y;
      };
      const positions = tf.range(offset, offset + t, 1, 'int32');
      let x = tf.gather(wte, tf.tensor1d(ids, 'int32')).add(tf.gather(wpe, positions)) as tf.Tensor2D; // [T, E]
      for (const [i, layer] of layers.entries()) {
        const p = `transformer.h.${i}`;
        const qkv = project(`${p}.attn.c_attn`, layerNorm(x, layer.ln1, config.normEps), layer.attn); // [T, 3E]
        const toHeads = (part: tf.Tensor) => part.reshape([t, numHeads, headDim]) as tf.Tensor3D; // [T, E] -> [T, H, D]
        const [q, k, v] = tf.split(qkv, 3, -1).map(toHeads) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const [allK, allV] = cache.append(i, k, v);
        x = x.add(project(`${p}.attn.c_proj`, causalAttention(q, allK, allV, offset), layer.attnProj));
        const hidden = geluNew(project(`${p}.mlp.c_fc`, layerNorm(x, layer.ln2, config.normEps), layer.fc));
        x = x.add(project(`${p}.mlp.c_proj`, hidden, layer.proj));
      }
      const head = wteT ?? (wte.transpose() as tf.Tensor2D);
      return tf.matMul(layerNorm(x, lnF, config.normEps), head) as tf.Tensor2D; // [T, vocab]
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
