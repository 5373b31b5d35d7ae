/**
 * Causal LM loss on target tokens only. Position t predicts token t+1, so a target span [s, e) of
 * token ids is predicted by the logits at positions s-1 .. e-2.
 */
import * as tf from '@tensorflow/tfjs';
import type { Span } from '../datasets/tokenize.js';

/** The (position, next token) pairs a sequence's targets are predicted at. */
export function targetPositions(ids: number[], targets: Span[]): { positions: number[]; labels: number[] } {
  const positions: number[] = [];
  const labels: number[] = [];
  for (const { start, end } of targets) {
    for (let token = Math.max(start, 1); token < Math.min(end, ids.length); token += 1) {
      positions.push(token - 1);
      labels.push(ids[token]!);
    }
  }
  return { positions, labels };
}

/** Sum (not mean) of the cross-entropy at the target positions; logits [T, vocab]. */
export function maskedCrossEntropySum(logits: tf.Tensor2D, ids: number[], targets: Span[]): tf.Scalar {
  const { positions, labels } = targetPositions(ids, targets);
  if (positions.length === 0) throw new Error('an example needs at least one target token');
  return tf.tidy(() => {
    const picked = tf.gather(logits, positions); // [N, vocab]
    const logProbs = tf.logSoftmax(picked); // [N, vocab]
    const mask = tf.oneHot(labels, logits.shape[1]); // [N, vocab]
    return tf.neg(tf.sum(tf.mul(logProbs, mask))) as tf.Scalar;
  });
}
