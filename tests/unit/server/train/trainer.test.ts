import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { maskedCrossEntropySum } from '../../../../server/train/loss.js';
import {
  evaluateLoss,
  type TrainableModel,
  type TrainExample,
  train,
} from '../../../../server/train/trainer.js';

/** A real trainable bigram language model: logits of the next token from an embedding of this one. */
function bigramModel(vocab: number, dim: number, seed: number): TrainableModel & { dispose(): void } {
  const embed = tf.tidy(() =>
    tf.variable(tf.randomNormal([vocab, dim], 0, 0.1, 'float32', seed), true, `embed${seed}`),
  );
  const out = tf.tidy(() =>
    tf.variable(tf.randomNormal([dim, vocab], 0, 0.1, 'float32', seed + 1), true, `out${seed}`),
  );
  return {
    variables: [embed, out],
    exampleLoss: (example) =>
      tf.tidy(() => {
        const logits = tf.matMul(tf.gather(embed, example.ids), out) as tf.Tensor2D; // [T, vocab]
        return maskedCrossEntropySum(logits, example.ids, example.targets);
      }),
    dispose() {
      embed.dispose();
      out.dispose();
    },
  };
}

/** Sequences counting up modulo 8: every next token is predictable from this one. */
const sequences = (n: number, offset = 0): TrainExample[] =>
  Array.from({ length: n }, (_, i) => {
    const ids = Array.from({ length: 6 + (i % 5) }, (_, t) => (i + offset + t) % 8);
    return { ids, targets: [{ start: 1, end: ids.length }] };
  });

describe('train', () => {
  let start: number;
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  beforeEach(() => {
    start = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors).toBe(start);
  });

  it('lowers the training and validation loss', async () => {
    const model = bigramModel(8, 16, 1);
    const data = { train: sequences(32), validation: sequences(8, 3) };
    const before = await evaluateLoss(model, data.validation);
    const steps: number[] = [];
    const result = await train(
      model,
      data,
      { epochs: 12, batchSize: 4, learningRate: 0.05, seed: 1, maxGradNorm: 1 },
      {
        onStep: (m) => steps.push(m.loss),
      },
    );
    expect(result.steps).toBe(96);
    expect(steps[steps.length - 1]!).toBeLessThan(steps[0]! / 3);
    expect(result.validationLoss!).toBeLessThan(before / 3);
    model.dispose();
  });

  it('reaches the same weights with the same seed', async () => {
    const run = async () => {
      const model = bigramModel(8, 8, 5);
      await train(
        model,
        { train: sequences(12), validation: [] },
        { epochs: 2, batchSize: 3, learningRate: 0.02, seed: 9 },
      );
      const weights = Array.from(model.variables[1]!.dataSync());
      model.dispose();
      return weights;
    };
    expect(await run()).toEqual(await run());
  });

  it('accumulates gradients: two batches of 2 per step take as many steps as batches of 4', async () => {
    const model = bigramModel(8, 8, 3);
    const result = await train(
      model,
      { train: sequences(16), validation: [] },
      {
        epochs: 1,
        batchSize: 2,
        gradientAccumulation: 2,
        learningRate: 0.01,
        seed: 2,
      },
    );
    expect(result.steps).toBe(4);
    model.dispose();
  });

  it('stops early when validation stops improving, and reports progress', async () => {
    const model = bigramModel(8, 8, 4);
    const evaluations: number[] = [];
    // A learning rate far too high makes validation worse, so patience runs out.
    const result = await train(
      model,
      { train: sequences(16), validation: sequences(4, 1) },
      {
        epochs: 50,
        batchSize: 4,
        learningRate: 5,
        warmupSteps: 0,
        evalEvery: 2,
        patience: 2,
        seed: 3,
      },
      { onEvaluate: (loss) => evaluations.push(loss) },
    );
    expect(result.stoppedEarly).toBe(true);
    expect(result.steps).toBeLessThan(200);
    expect(evaluations.length).toBeGreaterThanOrEqual(3);
    model.dispose();
  });

  it('stops cleanly when cancelled', async () => {
    const model = bigramModel(8, 8, 6);
    const controller = new AbortController();
    const result = await train(
      model,
      { train: sequences(16), validation: [] },
      { epochs: 10, batchSize: 2, learningRate: 0.01, seed: 1 },
      {
        signal: controller.signal,
        onStep: (m) => {
          if (m.step === 3) controller.abort();
        },
      },
    );
    expect(result).toMatchObject({ cancelled: true, steps: 3 });
    model.dispose();
  });
});
