/**
 * The gradient of one DP-SGD step, built from the privacy module's parts: each sampled example's
 * gradient (one backward pass each), clipped to norm C, summed, plus N(0, σ²C²) noise, divided by
 * the expected batch size q·N. An empty Poisson sample still gets its noise.
 */
import * as tf from '@tensorflow/tfjs';
import { clipAndSum } from '../privacy/dp/clip.js';
import { addGaussianNoise } from '../privacy/dp/noise.js';
import type { Rng } from '../privacy/dp/rng.js';
import type { TrainableModel, TrainExample } from './trainer.js';

export interface DpSettings {
  noiseMultiplier: number;
  clipNorm: number;
  /** Poisson sampling rate q: each example is in a step's batch with this probability. */
  sampleRate: number;
  rng: Rng;
}

export async function privatizedGradients(
  model: TrainableModel,
  batch: TrainExample[],
  exampleCount: number,
  dp: DpSettings,
): Promise<{ grads: tf.Tensor[]; lossSum: number }> {
  const losses: tf.Scalar[] = [];
  const perExample: tf.Tensor[][] = model.variables.map(() => []);
  for (const example of batch) {
    const { value, grads } = tf.variableGrads(() => model.exampleLoss(example, true), model.variables);
    losses.push(value);
    for (const [i, variable] of model.variables.entries()) perExample[i]!.push(grads[variable.name]!);
  }
  const grads = tf.tidy(() => {
    const summed =
      batch.length === 0
        ? model.variables.map((variable) => tf.zerosLike(variable))
        : clipAndSum(
            perExample.map((list) => tf.stack(list)), // [examples, ...variable shape]
            dp.clipNorm,
          );
    const noisy = addGaussianNoise(summed, {
      noiseMultiplier: dp.noiseMultiplier,
      clipNorm: dp.clipNorm,
      rng: dp.rng,
    });
    return noisy.map((grad) => tf.div(grad, dp.sampleRate * exampleCount));
  });
  tf.dispose(perExample.flat());
  // One read per step, asynchronous: webgpu has no synchronous reads in Node.
  const total = losses.length === 0 ? null : tf.addN(losses);
  const lossSum = total === null ? 0 : (await total.data())[0]!;
  tf.dispose([...losses, ...(total ? [total] : [])]);
  return { grads, lossSum };
}
