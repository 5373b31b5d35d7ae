/** The Gaussian mechanism's noise: N(0, σ²C²) on every coordinate of the clipped sum. */
import * as tf from '@tensorflow/tfjs';
import { gaussians, type Rng } from './rng.js';

export interface NoiseOptions {
  noiseMultiplier: number;
  clipNorm: number;
  rng: Rng;
}

/** A tensor of independent N(0, std²) draws, generated in JavaScript from `rng`. */
export function gaussianNoise(shape: number[], std: number, rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(gaussians(rng, size, std), shape, 'float32');
}

/** sum + N(0, (σC)²) for each tensor; σ = 0 returns copies. */
export function addGaussianNoise(
  sum: tf.Tensor[],
  { noiseMultiplier, clipNorm, rng }: NoiseOptions,
): tf.Tensor[] {
  if (!(noiseMultiplier >= 0 && Number.isFinite(noiseMultiplier))) {
    throw new RangeError(`noiseMultiplier must be >= 0, got ${noiseMultiplier}`);
  }
  const std = noiseMultiplier * clipNorm;
  return tf.tidy(() =>
    sum.map((tensor) => (std === 0 ? tensor.clone() : tf.add(tensor, gaussianNoise(tensor.shape, std, rng)))),
  );
}
