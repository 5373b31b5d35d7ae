import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config.js';
import { KvCache } from './kv-cache.js';

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
  /** Frees the weights. */
  dispose(): void;
}

/** The parts an architecture defines; assembleModel() adds the rest. */
export interface ModelParts {
  config: ModelConfig;
  parameterCount: number;
  numLayers: number;
  forwardWithCache: CausalLM['forwardWithCache'];
  /** Frees the weights. */
  dispose(): void;
}

/** A CausalLM from an architecture's cached forward: a full pass is a cached pass on a fresh cache. */
export function assembleModel(parts: ModelParts): CausalLM {
  const { config, parameterCount, numLayers, forwardWithCache, dispose } = parts;
  return {
    config,
    parameterCount,
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
