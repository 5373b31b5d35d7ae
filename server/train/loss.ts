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

/**
 * Sum (not mean) of the cross-entropy at the target positions; logits [T, vocab].
 *
 * Where targets cover at least half the rows (once each), the log-softmax runs over every row and
 * a one-hot mask with empty rows elsewhere picks the targets: no gather of [T, vocab] rows and no
 * scatter of their gradient back, which cost a training step more than the rows spared (vocab
 * 49,152). Otherwise only the target rows are gathered.
 */
export function maskedCrossEntropySum(logits: tf.Tensor2D, ids: number[], targets: Span[]): tf.Scalar {
  const { positions, labels } = targetPositions(ids, targets);
  if (positions.length === 0) throw new Error('an example needs at least one target token');
  const [rows, vocab] = logits.shape;
  const label = new Int32Array(rows).fill(-1);
  let once = true;
  for (const [i, position] of positions.entries()) {
    if (label[position] !== -1) once = false;
    label[position] = labels[i]!;
  }
  return tf.tidy(() => {
    if (once && positions.length * 2 >= rows) {
      const logProbs = tf.logSoftmax(logits); // [T, vocab]
      const mask = tf.oneHot(tf.tensor1d(label, 'int32'), vocab); // [T, vocab]; -1: a row of zeros
      return tf.neg(tf.sum(tf.mul(logProbs, mask))) as tf.Scalar;
    }
    const picked = tf.gather(logits, positions); // [N, vocab]
    const logProbs = tf.logSoftmax(picked); // [N, vocab]
    const mask = tf.oneHot(labels, vocab); // [N, vocab]
    return tf.neg(tf.sum(tf.mul(logProbs, mask))) as tf.Scalar;
  });
}
