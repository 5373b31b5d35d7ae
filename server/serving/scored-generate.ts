/**
 * Generation that also scores what it generates: server/ml/generate.ts's loop, summing each
 * generated token's log-probability under the model's own distribution for the reply's confidence.
 */
import type { CausalLM } from '../ml/architectures/types.js';
import { type FinishReason, type GenerationTokenizer, generate, type LogitsSource } from '../ml/generate.js';
import type { SamplingOptions } from '../ml/sampling.js';

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

/** generate() with the sum of its tokens' log-probabilities, streaming only non-empty text. */
export async function scoredGenerate(
  model: CausalLM | LogitsSource,
  tokenizer: GenerationTokenizer,
  promptIds: number[],
  options: ScoredGenerateOptions,
): Promise<ScoredGeneration> {
  let logProbSum = 0;
  const result = await generate(model, tokenizer, promptIds, {
    ...options.sampling,
    maxNewTokens: options.maxNewTokens,
    seed: options.seed,
    eosTokenIds: options.eosTokenIds,
    // A reply never ends blank: a model that would say nothing (the starter does, deep into long
    // chats) says its likeliest words instead, with the low confidence they earn.
    requireText: true,
    signal: options.signal,
    onToken: ({ delta, logProb }) => {
      logProbSum += logProb;
      if (delta) options.onDelta?.(delta);
    },
  });
  return { ...result, logProbSum };
}
