/**
 * Next-response ranking: each candidate reply is scored by its length-normalized log-likelihood
 * given the context (mean log-probability of its tokens, rendered with the model's chat template),
 * and the cases give R@1 and MRR. The context is run once per case; each candidate continues from
 * a copy of its KV cache, so a candidate costs its own tokens, not the whole conversation again.
 */
import * as tf from '@tensorflow/tfjs';
import { TemplateError } from '../datasets/tokenize.js';
import { KvCache } from '../ml/architectures/kv-cache.js';
import type { CausalLM } from '../ml/architectures/types.js';
import type { ChatMessage, ChatTokenizer } from '../ml/tokenizer.js';
import { targetPositions } from '../train/loss.js';
import type { RankingCase } from './cases.js';

export interface RankingResult {
  r1: number;
  mrr: number;
  n: number;
}

function contextMessages(rankingCase: RankingCase, systemPrompt: string | null): ChatMessage[] {
  const messages: ChatMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
  for (const message of rankingCase.context) {
    messages.push({ role: message.role === 'customer' ? 'user' : 'assistant', content: message.text });
  }
  return messages;
}

/**
 * Mean log-probability of `reply`'s tokens after `context`. `opened` is the context rendered with
 * an open assistant turn; the same for every candidate, so the caller renders it once.
 */
export function replyScore(
  model: CausalLM,
  tokenizer: ChatTokenizer,
  context: ChatMessage[],
  opened: number[],
  reply: string,
): number {
  const full = tokenizer.encodeChat([...context, { role: 'assistant', content: reply }]);
  if (!opened.every((id, i) => full[i] === id)) {
    throw new TemplateError(
      'the chat template renders the reply turn differently from its opening; cannot score replies',
    );
  }
  const start = Math.max(0, full.length - model.config.contextLength); // keep the reply, drop the oldest context
  const ids = full.slice(start);
  const targets = [{ start: Math.max(opened.length - start, 1), end: full.length - start }];
  const { positions, labels } = targetPositions(ids, targets);
  if (positions.length === 0) return Number.NEGATIVE_INFINITY;
  return tf.tidy(() => {
    const logits = model.forward(ids); // [T, vocab]
    const logProbs = tf.logSoftmax(tf.gather(logits, positions)); // [N, vocab]
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(labels, logits.shape[1]))); // sum of label log-probs
    return picked.dataSync()[0]! / positions.length;
  });
}

/** A KV cache that remembers what it holds, so candidates can each continue from a copy of it. */
class PrefixCache extends KvCache {
  private readonly held: [tf.Tensor3D, tf.Tensor3D][] = [];

  override append(layer: number, k: tf.Tensor3D, v: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D] {
    const pair = super.append(layer, k, v);
    this.held[layer] = pair; // the cache's own tensors: valid until its next append or dispose
    return pair;
  }

  /** A new cache holding copies of the same positions. */
  fork(): KvCache {
    const copy = new KvCache(this.numLayers);
    for (const [layer, [k, v]] of this.held.entries()) copy.append(layer, k, v);
    copy.commit(this.length);
    return copy;
  }
}

/**
 * replyScore of every candidate, with the context run once: the opened context fills a cache,
 * and each candidate's tokens run on a copy of it. A candidate whose chat does not fit the context
 * falls back to replyScore (which drops the oldest context tokens).
 */
export function candidateScores(
  model: CausalLM,
  tokenizer: ChatTokenizer,
  context: ChatMessage[],
  opened: number[],
  candidates: string[],
): number[] {
  const { contextLength } = model.config;
  if (opened.length === 0 || opened.length >= contextLength)
    return candidates.map((reply) => replyScore(model, tokenizer, context, opened, reply));
  const prefix = new PrefixCache(model.createCache().numLayers);
  let first: tf.Tensor2D | null = null;
  try {
    const logits = model.forwardWithCache(opened, prefix); // [T, vocab]
    first = tf.tidy(() => tf.logSoftmax(logits.slice([opened.length - 1, 0], [1, -1]))); // [1, vocab]
    logits.dispose();
    const firstRow = first;
    return candidates.map((reply) => {
      const full = tokenizer.encodeChat([...context, { role: 'assistant', content: reply }]);
      if (full.length > contextLength) return replyScore(model, tokenizer, context, opened, reply);
      if (!opened.every((id, i) => full[i] === id)) {
        throw new TemplateError(
          'the chat template renders the reply turn differently from its opening; cannot score replies',
        );
      }
      const ids = full.slice(opened.length);
      if (ids.length === 0) return Number.NEGATIVE_INFINITY;
      const cache = prefix.fork();
      let sum: tf.Scalar | null = null;
      try {
        sum = tf.tidy(() => {
          // Token j of the reply is predicted by the row before it: the context's last row for j = 0.
          const rows =
            ids.length > 1
              ? tf.concat([firstRow, tf.logSoftmax(model.forwardWithCache(ids.slice(0, -1), cache))], 0)
              : firstRow; // [R, vocab]
          return tf.sum(tf.mul(rows, tf.oneHot(ids, rows.shape[1]))) as tf.Scalar;
        });
        return sum.dataSync()[0]! / ids.length;
      } finally {
        sum?.dispose();
        cache.dispose();
      }
    });
  } finally {
    first?.dispose();
    prefix.dispose();
  }
}

export function rankCases(
  model: CausalLM,
  tokenizer: ChatTokenizer,
  cases: RankingCase[],
  options: { systemPrompt?: string | null; onCase?: (done: number) => void } = {},
): RankingResult {
  if (cases.length === 0) throw new Error('no ranking cases');
  let hits = 0;
  let reciprocal = 0;
  cases.forEach((rankingCase, index) => {
    const context = contextMessages(rankingCase, options.systemPrompt ?? null);
    const opened = tokenizer.encodeChat(context, { addGenerationPrompt: true });
    const scores = candidateScores(model, tokenizer, context, opened, rankingCase.candidates);
    const answerScore = scores[rankingCase.answer]!;
    // Ties count against the answer, so a model that scores everything alike is not rewarded.
    const rank = 1 + scores.filter((score, i) => i !== rankingCase.answer && score >= answerScore).length;
    if (rank === 1) hits += 1;
    reciprocal += 1 / rank;
    options.onCase?.(index + 1);
  });
  return { r1: hits / cases.length, mrr: reciprocal / cases.length, n: cases.length };
}
