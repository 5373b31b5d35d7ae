/**
 * The gradient of one DP-SGD step, built from the privacy module's parts: each sampled example's
 * gradient (one backward pass each), clipped to norm C, summed, plus N(0, σ²C²) noise, divided by
 * the expected batch size q·N. An empty Poisson sample still gets its noise.
 */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../ml/sum-tensors.js';
import { clipAndSum } from '../privacy/dp/clip.js';
import { addGaussianNoise } from '../privacy/dp/noise.js';
import { sumByUnit } from '../privacy/dp/per-example-grads.js';
import type { Rng } from '../privacy/dp/rng.js';
import type { TrainableModel, TrainExample } from './trainer.js';

export interface DpSettings {
  /** What one privacy unit is: an example, or all of a customer's examples (user-level DP). */
  unit?: 'example' | 'customer';
  noiseMultiplier: number;
  clipNorm: number;
  /** Poisson sampling rate q: each example is in a step's batch with this probability. */
  sampleRate: number;
  rng: Rng;
}

/**
 * `unitCount` is the number of privacy units in the data (examples, or customers with
 * `dp.unit === 'customer'`, whose examples' gradients are summed before the clip, so one customer
 * moves the model by at most C however many conversations they had).
 */
export async function privatizedGradients(
  model: TrainableModel,
  batch: TrainExample[],
  unitCount: number,
  dp: DpSettings,
): Promise<{ grads: tf.Tensor[]; lossSum: number }> {
  const losses: tf.Scalar[] = [];
  const perExample: tf.Tensor[][] = model.variables.map(() => []);
  const unitRows = new Map<string, number>(); // unit -> its row in the summed gradients
  const unitIds: number[] = [];
  for (const [index, example] of batch.entries()) {
    const { value, grads } = tf.variableGrads(() => model.exampleLoss(example, true), model.variables);
    losses.push(value);
    for (const [i, variable] of model.variables.entries()) perExample[i]!.push(grads[variable.name]!);
    const key = dp.unit === 'customer' ? (example.unit ?? `example:${index}`) : `example:${index}`;
    if (!unitRows.has(key)) unitRows.set(key, unitRows.size);
    unitIds.push(unitRows.get(key)!);
  }
  const grads = tf.tidy(() => {
    const summed =
      batch.length === 0
        ? model.variables.map((variable) => tf.zerosLike(variable))
        : clipAndSum(
            // [examples, ...variable shape] -> [units, ...variable shape]: a unit is clipped as one.
            unitRows.size === batch.length
              ? perExample.map((list) => tf.stack(list)) // one example per unit: nothing to sum
              : sumByUnit(
                  perExample.map((list) => tf.stack(list)),
                  unitIds,
                  unitRows.size,
                ),
            dp.clipNorm,
          );
    const noisy = addGaussianNoise(summed, {
      noiseMultiplier: dp.noiseMultiplier,
      clipNorm: dp.clipNorm,
      rng: dp.rng,
    });
    return noisy.map((grad) => tf.div(grad, dp.sampleRate * unitCount));
  });
  tf.dispose(perExample.flat());
  // One read per step, asynchronous: webgpu has no synchronous reads in Node.
  const total = losses.length === 0 ? null : sumTensors(losses);
  const lossSum = total === null ? 0 : (await total.data())[0]!;
  tf.dispose([...losses, ...(total ? [total] : [])]);
  return { grads, lossSum };
}
