/** Small models for DP-SGD tests: logistic regression written both ways per-example-grads.ts needs. */
import * as tf from '@tensorflow/tfjs';
import type { BatchedParamsLoss, ExampleLoss } from '../../../../../server/privacy/dp/per-example-grads.js';
import { seededRng } from '../../../../../server/privacy/dp/rng.js';

export interface LogisticRegression {
  weights: tf.Variable;
  bias: tf.Variable;
  variables: tf.Variable[];
  /** Per-example binary cross-entropy, reading the variables. */
  loss: ExampleLoss;
  /** The same loss with per-example parameter copies: params [rows, dim] and [rows]. */
  batchedLoss: BatchedParamsLoss;
  dispose(): void;
}

export function logisticRegression(
  dim: number,
  init: { weights?: number[]; bias?: number } = {},
): LogisticRegression {
  // Inside tidy, so that the initial values do not outlive the variables made from them.
  const weights = tf.tidy(() => tf.variable(tf.tensor1d(init.weights ?? new Array(dim).fill(0))));
  const bias = tf.tidy(() => tf.variable(tf.scalar(init.bias ?? 0)));
  // log(1 + e^l) - y·l: the binary cross-entropy of logit l, stable for large |l|.
  const crossEntropy = (logits: tf.Tensor, ys: tf.Tensor) =>
    tf.sub(tf.softplus(logits), tf.mul(ys, logits)) as tf.Tensor1D;
  return {
    weights,
    bias,
    variables: [weights, bias],
    loss: (xs, ys) =>
      crossEntropy(tf.add(tf.matMul(xs as tf.Tensor2D, weights.reshape([dim, 1])).reshape([-1]), bias), ys),
    batchedLoss: ([w, b], xs, ys) => crossEntropy(tf.add(tf.sum(tf.mul(xs, w!), 1), b!), ys),
    dispose: () => tf.dispose([weights, bias]),
  };
}

/** A linearly separable toy set: label = [x·direction > 0], with a margin. */
export function separableData(count: number, dim: number, seed = 1): { xs: number[][]; ys: number[] } {
  const rng = seededRng(seed);
  const direction = Array.from({ length: dim }, (_, i) => (i % 2 === 0 ? 1 : -1) / Math.sqrt(dim));
  const xs: number[][] = [];
  const ys: number[] = [];
  while (xs.length < count) {
    const x = Array.from({ length: dim }, () => rng.next() * 4 - 2);
    const projection = x.reduce((sum, v, i) => sum + v * direction[i]!, 0);
    if (Math.abs(projection) < 0.5) continue;
    xs.push(x);
    ys.push(projection > 0 ? 1 : 0);
  }
  return { xs, ys };
}
