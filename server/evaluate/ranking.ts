/**
 * Next-response ranking: each candidate reply is scored by its length-normalized log-likelihood
 * given the context (mean log-probability of its tokens, rendered with the model's chat template),
 * and the cases give R@1 and MRR.
 */
import * as tf from '@tensorflow/tfjs';
import { TemplateError } from '../datasets/tokenize.js';
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
    const scores = rankingCase.candidates.map((candidate) =>
      replyScore(model, tokenizer, context, opened, candidate),
    );
    const answerScore = scores[rankingCase.answer]!;
    // Ties count against the answer, so a model that scores everything alike is not rewarded.
    const rank = 1 + scores.filter((score, i) => i !== rankingCase.answer && score >= answerScore).length;
    if (rank === 1) hits += 1;
    reciprocal += 1 / rank;
    options.onCase?.(index + 1);
  });
  return { r1: hits / cases.length, mrr: reciprocal / cases.length, n: cases.length };
}
