/**
 * Generation quality: the model writes a reply (greedy, at most `maxNewTokens`) to a seeded sample
 * of validation contexts, and each reply is compared with the agent's real one.
 *
 * Replies are written by the live chat engine's own path (server/serving: prompt fitting, the
 * ids that end a turn), greedy instead of sampled, so the figures describe what visitors would get.
 *
 * Per sample: ROUGE-L F1 and sentence BLEU-4 against the real reply (text-metrics.ts), and three
 * failure flags, reported as rates over the sample:
 * - empty: the reply has no word (letters or digits) at all;
 * - repeated: the reply is stuck in a loop or parrots the conversation. Precisely: its words equal
 *   those of the last agent turn in the context, or some run of n consecutive words is immediately
 *   repeated back to back, 3 times in a row for n < 4 ("ok ok ok") or 2 times for n >= 4
 *   ("how can i help you how can i help you");
 * - over-long: generation stopped because it reached `maxNewTokens` (or the end of the context)
 *   instead of ending its turn.
 * Mean reply length is in words (as the metrics count them) and in generated tokens (without the
 * end-of-turn token).
 */

import type { FinishReason } from '../ml/generate.js';
import { seededRandom, shuffle } from '../seeded-random.js';
import { replyWith, type ServedModel } from '../serving/served-model.js';
import { bleu, rougeL, words } from './text-metrics.js';
import { type DialogueTurn, mergeTurns, type ValidationConversation } from './validation-split.js';

export interface GenerationSample {
  /** "<conversation id>:<turn index>". */
  id: string;
  context: DialogueTurn[];
  /** The agent's real reply. */
  reference: string;
}

export interface GeneratedReply {
  text: string;
  tokens: number;
  finishReason: FinishReason;
}

export interface GenerationMetrics {
  n: number;
  rougeL: number;
  bleu: number;
  emptyRate: number;
  repeatedRate: number;
  overLongRate: number;
  meanReplyWords: number;
  meanReplyTokens: number;
}

/**
 * Up to `count` samples: the validation conversations in a seeded order, one agent turn from each
 * (seeded), with the turns before it as context. Consecutive messages of one role are one turn,
 * as training renders them.
 */
export function generationSamples(
  conversations: ValidationConversation[],
  options: { count?: number; seed?: number } = {},
): GenerationSample[] {
  const random = seededRandom(options.seed ?? 1);
  const order = shuffle(
    conversations.map((_, i) => i),
    random,
  );
  const samples: GenerationSample[] = [];
  for (const c of order) {
    if (samples.length >= (options.count ?? 50)) break;
    const turns = mergeTurns(conversations[c]!.turns);
    const points = turns.flatMap((turn, i) => (i > 0 && turn.role === 'agent' ? [i] : []));
    if (points.length === 0) continue;
    const point = points[Math.floor(random() * points.length)]!;
    samples.push({
      id: `${conversations[c]!.id}:${point}`,
      context: turns.slice(0, point),
      reference: turns[point]!.text,
    });
  }
  return samples;
}

const sameWords = (a: string[], b: string[]) => a.length === b.length && a.every((w, i) => w === b[i]);

/** Whether some run of n words repeats back to back (3 times for n < 4, twice for n >= 4). */
export function hasRepeatedRun(tokens: string[]): boolean {
  for (let n = 1; n * 2 <= tokens.length; n += 1) {
    const times = n < 4 ? 3 : 2;
    for (let i = 0; i + n * times <= tokens.length; i += 1) {
      let repeats = true;
      for (let k = 1; k < times && repeats; k += 1) {
        for (let j = 0; j < n; j += 1) {
          if (tokens[i + j] !== tokens[i + k * n + j]) {
            repeats = false;
            break;
          }
        }
      }
      if (repeats) return true;
    }
  }
  return false;
}

/** The "repeated" flag defined at the top of this file. */
export function isRepeatedReply(reply: string, context: DialogueTurn[]): boolean {
  const replyWords = words(reply);
  if (replyWords.length === 0) return false;
  const previousAgent = [...context].reverse().find((t) => t.role === 'agent');
  if (previousAgent && sameWords(replyWords, words(previousAgent.text))) return true;
  return hasRepeatedRun(replyWords);
}

export function generationMetrics(samples: GenerationSample[], replies: GeneratedReply[]): GenerationMetrics {
  if (samples.length !== replies.length) throw new Error('one reply per sample');
  const n = samples.length;
  const mean = (f: (i: number) => number) => (n === 0 ? 0 : samples.reduce((s, _, i) => s + f(i), 0) / n);
  return {
    n,
    rougeL: mean((i) => rougeL(replies[i]!.text, samples[i]!.reference)),
    bleu: mean((i) => bleu(replies[i]!.text, samples[i]!.reference)),
    emptyRate: mean((i) => (words(replies[i]!.text).length === 0 ? 1 : 0)),
    repeatedRate: mean((i) => (isRepeatedReply(replies[i]!.text, samples[i]!.context) ? 1 : 0)),
    overLongRate: mean((i) => (replies[i]!.finishReason === 'length' ? 1 : 0)),
    meanReplyWords: mean((i) => words(replies[i]!.text).length),
    meanReplyTokens: mean((i) => replies[i]!.tokens),
  };
}

export interface GenerationSettings {
  systemPrompt: string | null;
  maxNewTokens: number;
  onSample?: (done: number) => void;
}

/**
 * Greedy replies to each sample, one after another, exactly as the live chat engine writes them
 * (same prompt fitting, end-of-turn ids), only without sampling.
 */
export async function generateReplies(
  served: ServedModel,
  samples: GenerationSample[],
  settings: GenerationSettings,
): Promise<GeneratedReply[]> {
  const replies: GeneratedReply[] = [];
  for (const sample of samples) {
    const reply = await replyWith(served, {
      turns: sample.context,
      systemPrompt: settings.systemPrompt,
      maxNewTokens: settings.maxNewTokens,
      sampling: { temperature: 0 },
    });
    replies.push({
      text: reply.text.trim(),
      // Without the end-of-turn token.
      tokens: reply.tokens - (reply.finishReason === 'eos' ? 1 : 0),
      finishReason: reply.finishReason,
    });
    settings.onSample?.(replies.length);
  }
  return replies;
}
