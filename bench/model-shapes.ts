/**
 * The model shapes the benchmarks measure, with random weights in Hugging Face layout (no
 * download), and the matmul count that model FLOPs are reckoned from.
 */
import type { TinyCheckpointOptions } from '../server/ml/testing/tiny-checkpoint.js';

/** Parley's starter model (seed/starter/model/config.json). */
export const STARTER_SHAPE: TinyCheckpointOptions = {
  architecture: 'llama',
  hiddenSize: 192,
  intermediateSize: 512,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  vocabSize: 2048,
  contextLength: 512,
  tieWordEmbeddings: true,
};

/** HuggingFaceTB/SmolLM2-135M's config. */
export const SMOLLM2_SHAPE: TinyCheckpointOptions = {
  architecture: 'llama',
  hiddenSize: 576,
  intermediateSize: 1536,
  numLayers: 30,
  numHeads: 9,
  numKvHeads: 3,
  vocabSize: 49152,
  contextLength: 2048,
  tieWordEmbeddings: true,
  ropeTheta: 100_000,
};

/**
 * Matmul weights N of one token's pass: attention and MLP projections of every layer and the LM
 * head, tied or not. A forward pass costs 2N FLOPs per token; attention scores are left out.
 */
export function matmulParameters(s: TinyCheckpointOptions): number {
  const h = s.hiddenSize!;
  const kv = (h / s.numHeads!) * s.numKvHeads!;
  const perLayer = h * h * 2 + h * kv * 2 + h * s.intermediateSize! * 3;
  return perLayer * s.numLayers! + h * s.vocabSize!;
}
