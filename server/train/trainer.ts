/**
 * The training loop, independent of what is trained: a TrainableModel names its variables (LoRA
 * adapters or all weights) and gives the loss of one example. Steps follow a warmup + cosine
 * schedule, accumulate micro-batches, clip the global gradient norm and apply AdamW; validation
 * runs every `evalEvery` steps with early stopping on its loss.
 */
import * as tf from '@tensorflow/tfjs';
import type { Span } from '../datasets/tokenize.js';
import { AdamW, type AdamWState } from './adamw.js';
import { epochBatches } from './batches.js';
import { clipByGlobalNorm } from './clip.js';
import { targetPositions } from './loss.js';
import { learningRateAt } from './schedule.js';

export interface TrainExample {
  ids: number[];
  targets: Span[];
}

export interface TrainableModel {
  readonly variables: tf.Variable[];
  /** Summed cross-entropy over the example's target tokens; `training` turns dropout on. */
  exampleLoss(example: TrainExample, training: boolean): tf.Scalar;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  warmupSteps?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  /** Batches whose gradients add up to one step. */
  gradientAccumulation?: number;
  evalEvery?: number;
  /** Evaluations without improvement before stopping; 0 never stops early. */
  patience?: number;
  seed: number;
}

export interface StepMetrics {
  step: number;
  totalSteps: number;
  epoch: number;
  /** Mean cross-entropy per target token of this step's batches. */
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
  etaSeconds: number;
}

export interface TrainResult {
  steps: number;
  finalLoss: number;
  validationLoss: number | null;
  bestValidationLoss: number | null;
  stoppedEarly: boolean;
  cancelled: boolean;
  optimizer: AdamWState;
}

const targetCount = (example: TrainExample) => targetPositions(example.ids, example.targets).positions.length;

/** Mean loss per target token over `examples`, without gradients or dropout. */
export function evaluateLoss(model: TrainableModel, examples: TrainExample[]): number {
  let total = 0;
  let tokens = 0;
  for (const example of examples) {
    const loss = tf.tidy(() => model.exampleLoss(example, false));
    total += loss.dataSync()[0]!;
    loss.dispose();
    tokens += targetCount(example);
  }
  if (tokens === 0) throw new Error('no target tokens to evaluate');
  return total / tokens;
}

export async function train(
  model: TrainableModel,
  data: { train: TrainExample[]; validation: TrainExample[] },
  options: TrainOptions,
  hooks: {
    onStep?: (metrics: StepMetrics) => void;
    onEvaluate?: (loss: number, step: number) => void;
    signal?: AbortSignal;
  } = {},
): Promise<TrainResult> {
  const accumulation = options.gradientAccumulation ?? 1;
  const batchesPerEpoch = Math.ceil(data.train.length / options.batchSize);
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / accumulation);
  const totalSteps = Math.max(1, stepsPerEpoch * options.epochs);
  const schedule = {
    peak: options.learningRate,
    warmupSteps: options.warmupSteps ?? Math.floor(totalSteps * 0.05),
    totalSteps,
  };
  const optimizer = new AdamW(model.variables, { weightDecay: options.weightDecay ?? 0.01 });
  const started = performance.now();
  let step = 0;
  let tokensSeen = 0;
  let finalLoss = Number.NaN;
  let validationLoss: number | null = null;
  let best: number | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;
  let cancelled = false;

  try {
    training: for (let epoch = 0; epoch < options.epochs; epoch += 1) {
      const batches = epochBatches(data.train, options.batchSize, options.seed + epoch);
      for (let first = 0; first < batches.length; first += accumulation) {
        const group = batches.slice(first, first + accumulation).flat();
        const tokens = group.reduce((n, example) => n + targetCount(example), 0);
        if (tokens === 0) continue;

        let summed: tf.Tensor[] | null = null;
        let lossSum = 0;
        for (const example of group) {
          const { value, grads } = tf.variableGrads(() => model.exampleLoss(example, true), model.variables);
          lossSum += value.dataSync()[0]!;
          value.dispose();
          const ordered = model.variables.map((variable) => grads[variable.name]!);
          if (summed === null) summed = ordered;
          else {
            const previous: tf.Tensor[] = summed;
            summed = previous.map((grad, i) => grad.add(ordered[i]!));
            for (const tensor of [...previous, ...ordered]) tensor.dispose();
          }
        }
        const mean = summed!.map((grad) => {
          const scaled = grad.div(tokens);
          grad.dispose();
          return scaled;
        });
        const { grads, norm } = options.maxGradNorm
          ? clipByGlobalNorm(mean, options.maxGradNorm)
          : { grads: mean, norm: Number.NaN };
        if (grads !== mean) for (const tensor of mean) tensor.dispose();
        const learningRate = learningRateAt(step, schedule);
        optimizer.apply(grads, learningRate);
        for (const tensor of grads) tensor.dispose();

        step += 1;
        tokensSeen += tokens;
        finalLoss = lossSum / tokens;
        const elapsed = (performance.now() - started) / 1000;
        hooks.onStep?.({
          step,
          totalSteps,
          epoch,
          loss: finalLoss,
          learningRate,
          gradNorm: norm,
          tokensPerSecond: tokensSeen / Math.max(elapsed, 1e-9),
          etaSeconds: (elapsed / step) * (totalSteps - step),
        });

        if (options.evalEvery && step % options.evalEvery === 0 && data.validation.length > 0) {
          validationLoss = evaluateLoss(model, data.validation);
          hooks.onEvaluate?.(validationLoss, step);
          if (best === null || validationLoss < best) {
            best = validationLoss;
            sinceBest = 0;
          } else {
            sinceBest += 1;
            if (options.patience && sinceBest >= options.patience) {
              stoppedEarly = true;
              break training;
            }
          }
        }
        if (hooks.signal?.aborted) {
          cancelled = true;
          break training;
        }
        await new Promise((resolve) => setImmediate(resolve)); // let progress and cancellation through
      }
    }
    if (data.validation.length > 0 && !stoppedEarly) {
      validationLoss = evaluateLoss(model, data.validation);
      best = best === null ? validationLoss : Math.min(best, validationLoss);
    }
    return {
      steps: step,
      finalLoss,
      validationLoss,
      bestValidationLoss: best,
      stoppedEarly,
      cancelled,
      optimizer: optimizer.state(),
    };
  } finally {
    optimizer.dispose();
  }
}
