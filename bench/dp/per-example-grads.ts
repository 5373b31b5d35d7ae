/**
 * Per-example gradients for DP-SGD: microbatches of 1 (one tf.variableGrads per example) against
 * the vectorized variant (one backward pass over per-example copies of the parameters), on two
 * small models: logistic regression and a LoRA adapter (rank 8) on a frozen linear layer.
 *
 *   npx tsx bench/dp/per-example-grads.ts [--backend cpu|wasm] [--batch 64] [--seconds 2]
 *
 * Prints one JSON line per (model, strategy) with examples/s, and checks both give the same gradients.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  type BatchedParamsLoss,
  type ExampleLoss,
  microbatchGrads,
  type UnitBatch,
  vectorizedGrads,
} from '../../server/privacy/dp/per-example-grads.js';
import { seededRng } from '../../server/privacy/dp/rng.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    batch: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '2' },
  },
});
if (values.backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
await tf.setBackend(values.backend);
await tf.ready();
const batchSize = Number(values.batch);
const seconds = Number(values.seconds);
const rng = seededRng(7);
const random = (shape: number[], scale = 1) =>
  tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng.next() * 2 - 1) * scale),
    shape,
  );

interface BenchModel {
  name: string;
  parameters: number;
  variables: tf.Variable[];
  loss: ExampleLoss;
  batchedLoss: BatchedParamsLoss;
  batch: UnitBatch;
}

function logistic(dim: number): BenchModel {
  const w = tf.variable(random([dim], 0.1));
  const b = tf.variable(tf.scalar(0));
  const bce = (logits: tf.Tensor, ys: tf.Tensor) =>
    tf.sub(tf.softplus(logits), tf.mul(ys, logits)) as tf.Tensor1D;
  return {
    name: `logistic-regression-${dim}`,
    parameters: dim + 1,
    variables: [w, b],
    loss: (xs, ys) => bce(tf.add(tf.matMul(xs as tf.Tensor2D, w.reshape([dim, 1])).reshape([-1]), b), ys),
    batchedLoss: ([pw, pb], xs, ys) => bce(tf.add(tf.sum(tf.mul(xs, pw!), 1), pb!), ys),
    batch: {
      xs: random([batchSize, dim]),
      ys: tf.tensor1d(Array.from({ length: batchSize }, () => (rng.next() < 0.5 ? 0 : 1))),
      unitIds: Array.from({ length: batchSize }, (_, i) => i),
      unitCount: batchSize,
    },
  };
}

/** logits = (x W + x A B) H: W and the head H frozen, the adapter A [d, r], B [r, d] trained. */
function lora(dim: number, rank: number, classes: number): BenchModel {
  const frozen = random([dim, dim], 1 / Math.sqrt(dim));
  const head = random([dim, classes], 1 / Math.sqrt(dim));
  const a = tf.variable(random([dim, rank], 1 / Math.sqrt(dim)));
  const b = tf.variable(random([rank, dim], 0.01));
  const xent = (logits: tf.Tensor, ys: tf.Tensor) =>
    tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, ys), 1)) as tf.Tensor1D;
  return {
    name: `lora-d${dim}-r${rank}`,
    parameters: 2 * dim * rank,
    variables: [a, b],
    loss: (xs, ys) => {
      const hidden = tf.add(
        tf.matMul(xs as tf.Tensor2D, frozen),
        tf.matMul(tf.matMul(xs as tf.Tensor2D, a), b),
      );
      return xent(tf.matMul(tf.relu(hidden), head), ys);
    },
    batchedLoss: ([pa, pb], xs, ys) => {
      const rows = xs.shape[0]!;
      const x3 = xs.reshape([rows, 1, dim]) as tf.Tensor3D;
      const adapter = tf.matMul(tf.matMul(x3, pa as tf.Tensor3D), pb as tf.Tensor3D).reshape([rows, dim]);
      const hidden = tf.add(tf.matMul(xs as tf.Tensor2D, frozen), adapter);
      return xent(tf.matMul(tf.relu(hidden), head), ys);
    },
    batch: {
      xs: random([batchSize, dim]),
      ys: tf
        .oneHot(
          tf.tensor1d(
            Array.from({ length: batchSize }, () => Math.floor(rng.next() * classes)),
            'int32',
          ),
          classes,
        )
        .toFloat(),
      unitIds: Array.from({ length: batchSize }, (_, i) => i),
      unitCount: batchSize,
    },
  };
}

function measure(run: () => tf.Tensor[]): { examplesPerSecond: number; batches: number } {
  tf.dispose(run()); // warm-up
  let batches = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const grads = run();
    grads[0]!.dataSync(); // wait for the backend
    tf.dispose(grads);
    batches += 1;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { examplesPerSecond: (batches * batchSize) / elapsed, batches };
}

for (const model of [logistic(64), lora(128, 8, 10)]) {
  const micro = microbatchGrads(model.loss, model.variables, model.batch);
  const vec = vectorizedGrads(model.batchedLoss, model.variables, model.batch);
  const maxDifference = Math.max(...micro.map((g, k) => tf.max(tf.abs(tf.sub(g, vec[k]!))).dataSync()[0]!));
  const gradientScale = Math.max(...micro.map((g) => tf.max(tf.abs(g)).dataSync()[0]!));
  tf.dispose([...micro, ...vec]);
  const results = {
    microbatch: measure(() => microbatchGrads(model.loss, model.variables, model.batch)),
    vectorized: measure(() => vectorizedGrads(model.batchedLoss, model.variables, model.batch)),
  };
  for (const [strategy, result] of Object.entries(results)) {
    process.stdout.write(
      `${JSON.stringify({
        model: model.name,
        parameters: model.parameters,
        backend: tf.getBackend(),
        batchSize,
        strategy,
        examplesPerSecond: Math.round(result.examplesPerSecond),
        maxGradientDifference: maxDifference,
        maxGradient: gradientScale,
      })}\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({ model: model.name, speedup: results.vectorized.examplesPerSecond / results.microbatch.examplesPerSecond })}\n`,
  );
}
