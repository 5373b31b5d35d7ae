/**
 * How a run's steps are drawn and what gradient each applies. The trainer's loop is the same for
 * both; DP-SGD only changes the plan: Poisson sampling, per-example clipping and noise, and an
 * accountant that records every step.
 */
import * as tf from '@tensorflow/tfjs';
import type { Accountant } from '../privacy/dp/accountant.js';
import { groupByUnit, poissonSample } from '../privacy/dp/sampling.js';
import { epochBatches } from './batches.js';
import { clipByGlobalNorm } from './clip.js';
import { type DpSettings, privatizedGradients } from './dp-step.js';
import { targetPositions } from './loss.js';
import type { TrainableModel, TrainExample } from './trainer.js';

/**
 * Where a run stands in its data, after a step. Ordinary batches: the epoch and the index of the
 * next batch in that epoch's seeded order. DP-SGD: `index` counts the run's steps (each one a fresh
 * Poisson sample), and `epoch` is how many expected passes they make.
 */
export interface DataPosition {
  epoch: number;
  index: number;
}

export const START: DataPosition = { epoch: 0, index: 0 };

export interface PlannedStep {
  epoch: number;
  examples: TrainExample[];
  /** The position once this step is done: where a run resumed after it starts. */
  next: DataPosition;
}

export interface StepGradients {
  grads: tf.Tensor[];
  /** Summed loss over the step's target tokens, and their number. */
  lossSum: number;
  tokens: number;
  /** Global gradient norm before clipping; NaN when not computed. */
  norm: number;
}

export interface StepPlan {
  totalSteps: number;
  /** The steps from `from` (default the start) to the end of the run. */
  steps(from?: DataPosition): Iterable<PlannedStep>;
  /** Reads tensors asynchronously, once per step: backends without synchronous reads (webgpu) train too. */
  gradients(model: TrainableModel, examples: TrainExample[]): Promise<StepGradients>;
  /** Called once a step's gradient is applied. */
  afterStep?(): void;
}

export const targetCount = (example: TrainExample) =>
  targetPositions(example.ids, example.targets).positions.length;

/**
 * The gradients of the examples' summed losses, in `model.variables` order, and that sum; both
 * still tensors (null for no examples), so a step reads them back once.
 */
export function sumExampleGradients(
  model: TrainableModel,
  examples: TrainExample[],
): { summed: tf.Tensor[] | null; loss: tf.Scalar | null } {
  let summed: tf.Tensor[] | null = null;
  let loss: tf.Scalar | null = null;
  for (const example of examples) {
    const { value, grads } = tf.variableGrads(() => model.exampleLoss(example, true), model.variables);
    if (loss === null) loss = value;
    else {
      const previous: tf.Scalar = loss;
      loss = previous.add(value) as tf.Scalar;
      tf.dispose([previous, value]);
    }
    const ordered = model.variables.map((variable) => grads[variable.name]!);
    if (summed === null) summed = ordered;
    else {
      const previous: tf.Tensor[] = summed;
      summed = previous.map((grad, i) => grad.add(ordered[i]!));
      tf.dispose([...previous, ...ordered]);
    }
  }
  return { summed, loss };
}

/** Length-bucketed, seeded batches; `accumulation` batches per step; mean per target token; global-norm clipping. */
export function ordinaryPlan(
  train: TrainExample[],
  options: { epochs: number; batchSize: number; accumulation: number; maxGradNorm?: number; seed: number },
): StepPlan {
  const stepsPerEpoch = Math.ceil(Math.ceil(train.length / options.batchSize) / options.accumulation);
  return {
    totalSteps: Math.max(1, stepsPerEpoch * options.epochs),
    *steps(from = START) {
      for (let epoch = from.epoch; epoch < options.epochs; epoch += 1) {
        // Each epoch's order comes from its own seed, so a position needs no generator state.
        const batches = epochBatches(train, options.batchSize, options.seed + epoch);
        for (
          let first = epoch === from.epoch ? from.index : 0;
          first < batches.length;
          first += options.accumulation
        ) {
          const after = first + options.accumulation;
          yield {
            epoch,
            examples: batches.slice(first, after).flat(),
            next: after < batches.length ? { epoch, index: after } : { epoch: epoch + 1, index: 0 },
          };
        }
      }
    },
    async gradients(model, examples) {
      const tokens = examples.reduce((n, example) => n + targetCount(example), 0);
      const { summed, loss } = sumExampleGradients(model, examples);
      const lossSum = loss === null ? 0 : (await loss.data())[0]!;
      loss?.dispose();
      const mean = tf.tidy(() =>
        (summed ?? model.variables.map((v) => tf.zerosLike(v))).map((g) => g.div(Math.max(tokens, 1))),
      );
      if (summed) tf.dispose(summed);
      if (!options.maxGradNorm) return { grads: mean, lossSum, tokens, norm: Number.NaN };
      const clipped = await clipByGlobalNorm(mean, options.maxGradNorm);
      tf.dispose(mean);
      return { grads: clipped.grads, lossSum, tokens, norm: clipped.norm };
    },
  };
}

/** The privacy units of a DP run: one example each, or each customer's examples together. */
export function privacyUnits(train: TrainExample[], unit: DpSettings['unit']): TrainExample[][] {
  const unitOf = (i: number) => (unit === 'customer' ? (train[i]!.unit ?? `example:${i}`) : i);
  return groupByUnit(train.length, unitOf).map((members) => members.map((i) => train[i]!));
}

/**
 * DP-SGD: epochs / q Poisson-sampled steps over the privacy units (examples, or customers), each
 * recorded by the accountant.
 */
export function dpPlan(
  train: TrainExample[],
  epochs: number,
  dp: DpSettings & { accountant: Accountant },
): StepPlan {
  const units = privacyUnits(train, dp.unit);
  const totalSteps = Math.max(1, Math.round(epochs / dp.sampleRate));
  return {
    totalSteps,
    *steps(from = START) {
      for (let step = from.index; step < totalSteps; step += 1) {
        const examples = poissonSample(units.length, dp.sampleRate, dp.rng).flatMap((i) => units[i]!);
        yield {
          epoch: Math.floor(step * dp.sampleRate),
          examples,
          next: { epoch: Math.floor((step + 1) * dp.sampleRate), index: step + 1 },
        };
      }
    },
    async gradients(model, examples) {
      const { grads, lossSum } = await privatizedGradients(model, examples, units.length, dp);
      return { grads, lossSum, tokens: examples.reduce((n, e) => n + targetCount(e), 0), norm: Number.NaN };
    },
    afterStep() {
      dp.accountant.step({ noiseMultiplier: dp.noiseMultiplier, sampleRate: dp.sampleRate });
    },
  };
}
