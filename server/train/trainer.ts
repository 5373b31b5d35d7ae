/**
 * The training loop, independent of what is trained: a TrainableModel names its variables (LoRA
 * adapters or all weights) and gives the loss of one example. A plan (plans.ts) draws each step's
 * examples and its gradient: ordinary batches, or DP-SGD. The loop applies AdamW on a warmup +
 * cosine schedule and runs validation every `evalEvery` steps with early stopping on its loss.
 */
import * as tf from '@tensorflow/tfjs';
import type { Span } from '../datasets/tokenize.js';
import type { Accountant } from '../privacy/dp/accountant.js';
import { AdamW, type AdamWState } from './adamw.js';
import type { DpSettings } from './dp-step.js';
import { dpPlan, ordinaryPlan, targetCount } from './plans.js';
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
  /**
   * DP-SGD instead of ordinary batches: Poisson-sampled steps (epochs / q of them), per-example
   * clipping and noise; every step is recorded by `accountant`.
   */
  dp?: DpSettings & { accountant: Accountant };
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
  const plan = options.dp
    ? dpPlan(data.train, options.epochs, options.dp)
    : ordinaryPlan(data.train, {
        epochs: options.epochs,
        batchSize: options.batchSize,
        accumulation: options.gradientAccumulation ?? 1,
        maxGradNorm: options.maxGradNorm,
        seed: options.seed,
      });
  const { totalSteps } = plan;
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
    for (const { epoch, examples } of plan.steps()) {
      const { grads, lossSum, tokens, norm } = plan.gradients(model, examples);
      const learningRate = learningRateAt(step, schedule);
      optimizer.apply(grads, learningRate);
      tf.dispose(grads);
      plan.afterStep?.();

      step += 1;
      tokensSeen += tokens;
      if (tokens > 0) finalLoss = lossSum / tokens;
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
            break;
          }
        }
      }
      if (hooks.signal?.aborted) {
        cancelled = true;
        break;
      }
      await new Promise((resolve) => setImmediate(resolve)); // let progress and cancellation through
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
