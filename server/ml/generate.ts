/**
 * Autoregressive generation with the KV cache: the prompt is run once (prefill), then each step
 * feeds only the newest token.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../seeded-random.js';
import type { CausalLM } from './architectures/types.js';
import type { ModelConfig } from './config.js';
import { IncrementalDetokenizer } from './detokenize.js';
import { type SamplingOptions, sampleToken, validateSampling } from './sampling.js';

/**
 * A model that generate() can run without tfjs: one open sequence at a time, fed ids after what it
 * has seen, answering with the last row of logits (ONNX Runtime's OnnxDecoder is one).
 */
export interface LogitsSource {
  readonly config: Pick<ModelConfig, 'vocabSize' | 'contextLength'>;
  open(): LogitsSequence;
}

export interface LogitsSequence {
  /** Positions fed so far. */
  readonly length: number;
  /** Feeds `ids` after what was fed before; the logits of the last of them. */
  step(ids: number[]): Promise<Float32Array>;
  dispose(): void;
}

/** A tfjs model as a LogitsSource: its KV cache per sequence. */
export function tfjsLogitsSource(model: CausalLM): LogitsSource {
  return {
    config: model.config,
    open() {
      const cache = model.createCache();
      return {
        get length() {
          return cache.length;
        },
        step: (ids) => lastRow(model.forwardWithCache(ids, cache)),
        dispose: () => cache.dispose(),
      };
    },
  };
}

/** What generate() needs of a tokenizer (ChatTokenizer has it). */
export interface GenerationTokenizer {
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  readonly eosTokenId?: number | undefined;
}

export interface GeneratedToken {
  id: number;
  /** Text this token made stable; the last token's delta also carries whatever was held back. */
  delta: string;
  /**
   * The token's natural log-probability under the model's own distribution (temperature 1, no
   * penalty or truncation), whatever sampling picked it: what a reply's confidence is made of.
   */
  logProb: number;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Seeds sampling; omit for a random seed. Unused when greedy. */
  seed?: number;
  /** Ids that end generation (not part of the text); default: the tokenizer's eos id. */
  eosTokenIds?: readonly number[];
  /** Texts that end generation; the text stops before the first one. Needs a tokenizer. */
  stopSequences?: readonly string[];
  /**
   * The eos ids cannot be picked while the text is still blank, so a reply is never empty (as
   * transformers' min_new_tokens, counted in visible text). Needs a tokenizer.
   */
  requireText?: boolean;
  /** Called once per generated token, in order; the deltas concatenate to the final text. */
  onToken?: (token: GeneratedToken) => void;
  /** Stops generation at the next token; the result keeps what was generated. */
  signal?: AbortSignal;
}

export type FinishReason = 'eos' | 'stop' | 'length' | 'aborted';

export interface GenerateResult {
  /** Decoded generated text without special tokens, eos or stop sequence; '' without a tokenizer. */
  text: string;
  /** Generated ids, the eos id included when it ended generation. */
  tokens: number[];
  finishReason: FinishReason;
}

export class GenerateError extends RangeError {
  override name = 'GenerateError';
}

function validate(
  model: LogitsSource,
  tokenizer: GenerationTokenizer | undefined,
  promptIds: number[],
  options: GenerateOptions,
): void {
  validateSampling(options);
  const { vocabSize, contextLength } = model.config;
  if (!(Number.isInteger(options.maxNewTokens) && options.maxNewTokens >= 1)) {
    throw new GenerateError(`maxNewTokens must be an integer >= 1, got ${options.maxNewTokens}`);
  }
  if (promptIds.length === 0) throw new GenerateError('the prompt has no tokens');
  if (promptIds.length > contextLength) {
    throw new GenerateError(
      `the prompt has ${promptIds.length} tokens, more than the context length ${contextLength}`,
    );
  }
  const bad = promptIds.find((id) => !(Number.isInteger(id) && id >= 0 && id < vocabSize));
  if (bad !== undefined)
    throw new GenerateError(`prompt token ${bad} is outside the vocabulary [0, ${vocabSize})`);
  if (options.seed !== undefined && !Number.isFinite(options.seed)) {
    throw new GenerateError(`seed must be a finite number, got ${options.seed}`);
  }
  if (options.stopSequences?.length && tokenizer === undefined) {
    throw new GenerateError('stop sequences need a tokenizer to decode the text');
  }
  if (options.requireText && tokenizer === undefined)
    throw new GenerateError('requireText needs a tokenizer to read the text');
  if (options.stopSequences?.some((s) => s.length === 0))
    throw new GenerateError('stop sequences must not be empty');
}

/** The last row of `logits` as numbers; disposes `logits`. */
async function lastRow(logits: tf.Tensor2D): Promise<Float32Array> {
  const row = tf.tidy(() => logits.slice([logits.shape[0] - 1, 0], [1, -1]));
  logits.dispose();
  try {
    return (await row.data()) as Float32Array;
  } finally {
    row.dispose();
  }
}

/** log(sum(exp(row))), stable. */
function logSumExp(row: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/** A copy of `logits` in which `ids` cannot be picked. */
function withoutIds(logits: Float32Array, ids: ReadonlySet<number>): Float32Array {
  const masked = logits.slice();
  for (const id of ids) if (id < masked.length) masked[id] = Number.NEGATIVE_INFINITY;
  return masked;
}

/** A macrotask break, so that an abort (or any other event) can land between steps. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Generates up to `maxNewTokens` after `promptIds`, stopping early on an eos id, a stop sequence,
 * the end of the context, or `signal`. Same seed and options, same tokens.
 */
export async function generate(
  tfjsOrSource: CausalLM | LogitsSource,
  tokenizer: GenerationTokenizer | undefined,
  promptIds: number[],
  options: GenerateOptions,
): Promise<GenerateResult> {
  const model = 'open' in tfjsOrSource ? tfjsOrSource : tfjsLogitsSource(tfjsOrSource);
  validate(model, tokenizer, promptIds, options);
  const eos = new Set(
    options.eosTokenIds ?? (tokenizer?.eosTokenId === undefined ? [] : [tokenizer.eosTokenId]),
  );
  const detokenizer = new IncrementalDetokenizer(
    (ids) => (ids.length === 0 ? '' : (tokenizer?.decode(ids, { skipSpecialTokens: true }) ?? '')),
    options.stopSequences,
  );
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const seen = [...promptIds];
  const tokens: number[] = [];
  if (options.signal?.aborted) return { text: '', tokens, finishReason: 'aborted' };

  const sequence = model.open();
  try {
    let logits = await sequence.step(promptIds);
    for (;;) {
      const id = sampleToken(
        options.requireText && detokenizer.text.trim() === '' ? withoutIds(logits, eos) : logits,
        options,
        random,
        seen,
      );
      const logProb = logits[id]! - logSumExp(logits);
      tokens.push(id);
      seen.push(id);
      let finish: FinishReason | undefined;
      let delta = '';
      if (eos.has(id)) finish = 'eos';
      else {
        const step = detokenizer.push(id);
        delta = step.delta;
        if (step.stopped) finish = 'stop';
      }
      // The newest token is fed at position sequence.length, which must stay inside the context.
      if (
        !finish &&
        (tokens.length >= options.maxNewTokens || sequence.length >= model.config.contextLength)
      ) {
        finish = 'length';
      }
      if (!finish) {
        await nextTurn();
        if (options.signal?.aborted) finish = 'aborted';
      }
      if (finish && finish !== 'stop') delta += detokenizer.finish();
      options.onToken?.({ id, delta, logProb });
      if (finish) return { text: detokenizer.text, tokens, finishReason: finish };
      logits = await sequence.step([id]);
    }
  } finally {
    sequence.dispose();
  }
}
