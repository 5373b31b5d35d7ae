/**
 * DP-SGD as a wrapper around an optimizer's step (Abadi et al. 2016): per-unit gradients, each
 * clipped to norm C, summed, plus N(0, σ²C²) noise, divided by the expected batch size q·N, then
 * handed to the wrapped optimizer. Every step, even on an empty batch, is recorded by the accountant.
 */
import * as tf from '@tensorflow/tfjs';
import type { Accountant } from './accountant.js';
import { clipAndSum } from './clip.js';
import { addGaussianNoise } from './noise.js';
import {
  type BatchedParamsLoss,
  type ExampleLoss,
  microbatchGrads,
  type UnitBatch,
  vectorizedGrads,
} from './per-example-grads.js';
import { createAccountant } from './registry.js';
import { type Rng, secureRng } from './rng.js';

export type PerUnitGradients =
  | { strategy: 'microbatch'; loss: ExampleLoss }
  | { strategy: 'vectorized'; loss: BatchedParamsLoss };

export interface DpOptimizerOptions {
  optimizer: tf.Optimizer;
  variables: tf.Variable[];
  gradients: PerUnitGradients;
  clipNorm: number;
  noiseMultiplier: number;
  sampleRate: number;
  /** Units in the training set (examples, or customers with user-level DP): N in q·N. */
  unitCount: number;
  /** Default: a fresh RDP accountant. Pass a restored one to resume from a checkpoint. */
  accountant?: Accountant;
  /** Default: crypto-backed. Inject a seeded one only in tests. */
  rng?: Rng;
}

/** Reuses the optimizer's learning rate schedule, momentum, etc.: only the gradient changes. */
export class DpOptimizer {
  readonly accountant: Accountant;
  private readonly rng: Rng;

  constructor(private readonly options: DpOptimizerOptions) {
    const { clipNorm, noiseMultiplier, sampleRate, unitCount } = options;
    if (!(clipNorm > 0 && Number.isFinite(clipNorm)))
      throw new RangeError(`clipNorm must be > 0, got ${clipNorm}`);
    if (!(noiseMultiplier >= 0 && Number.isFinite(noiseMultiplier))) {
      throw new RangeError(`noiseMultiplier must be >= 0, got ${noiseMultiplier}`);
    }
    if (!(sampleRate > 0 && sampleRate <= 1))
      throw new RangeError(`sampleRate must be in (0, 1], got ${sampleRate}`);
    if (!(Number.isInteger(unitCount) && unitCount > 0)) {
      throw new RangeError(`unitCount must be a positive integer, got ${unitCount}`);
    }
    this.accountant = options.accountant ?? createAccountant('rdp');
    this.rng = options.rng ?? secureRng();
  }

  /** The noisy, clipped, scaled gradient of a Poisson-sampled batch (null: an empty batch). */
  privatizedGradients(batch: UnitBatch | null): tf.Tensor[] {
    const { variables, gradients, clipNorm, noiseMultiplier, sampleRate, unitCount } = this.options;
    return tf.tidy(() => {
      let sum: tf.Tensor[];
      if (batch === null || batch.unitCount === 0) {
        sum = variables.map((v) => tf.zerosLike(v));
      } else {
        const perUnit =
          gradients.strategy === 'microbatch'
            ? microbatchGrads(gradients.loss, variables, batch)
            : vectorizedGrads(gradients.loss, variables, batch);
        sum = clipAndSum(perUnit, clipNorm);
      }
      const noisy = addGaussianNoise(sum, { noiseMultiplier, clipNorm, rng: this.rng });
      const expectedBatchSize = sampleRate * unitCount;
      return noisy.map((g) => tf.div(g, expectedBatchSize));
    });
  }

  /** One DP-SGD step: privatize, apply with the wrapped optimizer, account. */
  step(batch: UnitBatch | null): void {
    const grads = this.privatizedGradients(batch);
    try {
      const named: tf.NamedTensorMap = {};
      this.options.variables.forEach((v, k) => {
        named[v.name] = grads[k]!;
      });
      this.options.optimizer.applyGradients(named);
    } finally {
      tf.dispose(grads);
    }
    this.accountant.step({
      noiseMultiplier: this.options.noiseMultiplier,
      sampleRate: this.options.sampleRate,
    });
  }
}
