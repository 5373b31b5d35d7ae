import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config.js';
import { KvCache } from './kv-cache.js';
import type { NamedWeight } from './weights.js';

/** How a model holds its weights. */
export interface ModelBuildOptions {
  /** Every weight a tf.Variable, for full fine-tuning. */
  trainable?: boolean;
}

/**
 * A term added to the output of a model's linear projections (a LoRA adapter), looked up by the
 * projection's Hugging Face module name, e.g. "model.layers.0.self_attn.q_proj" or
 * "transformer.h.0.attn.c_attn" (gpt2 always with the "transformer." prefix).
 */
export interface LinearDelta {
  /** What to add to module `name`'s output for its input x [T, in], or undefined for nothing. */
  delta(name: string, x: tf.Tensor2D): tf.Tensor2D | undefined;
}

/** A causal language model held as tfjs tensors. */
export interface CausalLM {
  readonly config: ModelConfig;
  /** Number of values in the weights the model uses (tied weights counted once). */
  readonly parameterCount: number;
  /** Logits [T, vocab] of one causal pass over `ids` from position 0. */
  forward(ids: number[]): tf.Tensor2D;
  /**
   * Logits [T, vocab] for `ids` placed after what `cache` holds; appends their keys and values to
   * the cache, so the prefix is never recomputed.
   */
  forwardWithCache(ids: number[], cache: KvCache): tf.Tensor2D;
  createCache(): KvCache;
  /** The weights under their checkpoint names (variables when built trainable). */
  readonly weights: readonly NamedWeight[];
  /** Frees the weights. */
  dispose(): void;
}

/** The parts an architecture defines; assembleModel() adds the rest. */
export interface ModelParts {
  config: ModelConfig;
  parameterCount: number;
  numLayers: number;
  forwardWithCache: CausalLM['forwardWithCache'];
  weights: readonly NamedWeight[];
  /** Frees the weights. */
  dispose(): void;
}

/** A CausalLM from an architecture's cached forward: a full pass is a cached pass on a fresh cache. */
export function assembleModel(parts: ModelParts): CausalLM {
  const { config, parameterCount, numLayers, forwardWithCache, weights, dispose } = parts;
  return {
    config,
    parameterCount,
    weights,
    forwardWithCache,
    forward(ids) {
      const cache = new KvCache(numLayers);
      try {
        return forwardWithCache(ids, cache);
      } finally {
        cache.dispose();
      }
    },
    createCache: () => new KvCache(numLayers),
    dispose,
  };
}
