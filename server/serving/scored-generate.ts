/**
 * Generation that also scores what it generates: the same KV-cached loop, sampling and streamed
 * detokenization as server/ml/generate.ts, plus each generated token's log-probability under the
 * model's own distribution (temperature 1, no penalty or truncation), for the reply's confidence.
 */
import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../ml/architectures/types.js';
import { IncrementalDetokenizer } from '../ml/detokenize.js';
import type { FinishReason, GenerationTokenizer } from '../ml/generate.js';
import { type SamplingOptions, sampleToken, validateSampling } from '../ml/sampling.js';
import { seededRandom } from '../seeded-random.js';

export interface ScoredGenerateOptions {
  maxNewTokens: number;
  sampling: SamplingOptions;
  seed?: number | undefined;
  eosTokenIds: readonly number[];
  onDelta?: (delta: string) => void;
  signal?: AbortSignal | undefined;
}

export interface ScoredGeneration {
  text: string;
  tokens: number[];
  finishReason: FinishReason;
  /** Sum of the generated tokens' log-probabilities (natural log). */
  logProbSum: number;
}

/** exp(mean log-probability): the geometric mean token probability, in [0, 1]; 0 with no tokens. */
export function confidenceOf(logProbSum: number, tokens: number): number {
  if (tokens === 0) return 0;
  const value = Math.exp(logProbSum / tokens);
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/** log(sum(exp(row))), stable. */
function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

async function lastRow(logits: tf.Tensor2D): Promise<Float32Array> {
  const row = tf.tidy(() => logits.slice([logits.shape[0] - 1, 0], [1, -1]));
  logits.dispose();
  try {
    return (await row.data()) as Float32Array;
  } finally {
    row.dispose();
  }
}

/** A macrotask break between tokens: aborts and other replies on this thread get their turn. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function scoredGenerate(
  model: CausalLM,
  tokenizer: GenerationTokenizer,
  promptIds: number[],
  options: ScoredGenerateOptions,
): Promise<ScoredGeneration> {
  validateSampling(options.sampling);
  const { contextLength } = model.config;
  if (promptIds.length === 0 || promptIds.length >= contextLength) {
    throw new RangeError(`the prompt has ${promptIds.length} tokens; it must be 1 to ${contextLength - 1}`);
  }
  const eos = new Set(options.eosTokenIds);
  // transformers.js refuses to decode no ids, which a reply that starts with its end-of-turn token has.
  const detokenizer = new IncrementalDetokenizer((ids) =>
    ids.length === 0 ? '' : tokenizer.decode(ids, { skipSpecialTokens: true }),
  );
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const seen = [...promptIds];
  const tokens: number[] = [];
  let logProbSum = 0;
  if (options.signal?.aborted) return { text: '', tokens, finishReason: 'aborted', logProbSum };

  const cache = model.createCache();
  try {
    let logits = await lastRow(model.forwardWithCache(promptIds, cache));
    for (;;) {
      const id = sampleToken(logits, options.sampling, random, seen);
      logProbSum += logits[id]! - logSumExp(logits);
      tokens.push(id);
      seen.push(id);
      let finish: FinishReason | undefined;
      let delta = '';
      if (eos.has(id)) finish = 'eos';
      else delta = detokenizer.push(id).delta;
      if (!finish && (tokens.length >= options.maxNewTokens || cache.length >= contextLength))
        finish = 'length';
      if (!finish) {
        await nextTurn();
        if (options.signal?.aborted) finish = 'aborted';
      }
      if (finish) delta += detokenizer.finish();
      if (delta) options.onDelta?.(delta);
      if (finish) return { text: detokenizer.text, tokens, finishReason: finish, logProbSum };
      logits = await lastRow(model.forwardWithCache([id], cache));
    }
  } finally {
    cache.dispose();
  }
}
