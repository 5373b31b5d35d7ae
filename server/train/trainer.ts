/**
 * The training loop, independent of what is trained: a TrainableModel names its variables (LoRA
 * adapters or all weights) and gives the loss of one example. A plan (plans.ts) draws each step's
 * examples and its gradient: ordinary batches, or DP-SGD. The loop applies AdamW on a warmup +
 * cosine schedule and runs validation every `evalEvery` steps with early stopping on its loss.
 *
 * Every `checkpointEvery` steps, and once at the end (finished, stopped early or cancelled), the
 * loop hands out a snapshot of everything its future depends on: the trained values, AdamW's
 * moments, the data position, the loop's own counters, the seeded generators' positions and the
 * accountant. `options.resume` with such a snapshot continues the run exactly where it was:
 * without DP, a run stopped and resumed ends with the same weights as one that never stopped.
 */
import * as tf from '@tensorflow/tfjs';
import type { Span } from '../datasets/tokenize.js';
import type { Accountant, AccountantState } from '../privacy/dp/accountant.js';
import { AdamW, type AdamWSnapshot } from './adamw.js';
import type { DpSettings } from './dp-step.js';
import { type DataPosition, dpPlan, ordinaryPlan, START, targetCount } from './plans.js';
import { learningRateAt } from './schedule.js';

export interface TrainExample {
  ids: number[];
  targets: Span[];
  /** Whose data this is, for customer-level DP: the customer (hashed), or the conversation. */
  unit?: string;
}

export interface TrainableModel {
  readonly variables: tf.Variable[];
  /** Summed cross-entropy over the example's target tokens; `training` turns dropout on. */
  exampleLoss(example: TrainExample, training: boolean): tf.Scalar;
  /** Positions of the model's own seeded generators (dropout masks), for a checkpoint. */
  randomState?(): Record<string, number>;
  restoreRandomState?(state: Record<string, number>): void;
}

/** The loop's counters: what early stopping, the loss report and tokens/s carry over a resume. */
export interface LoopState {
  tokensSeen: number;
  /** Last step's loss; null before any step with target tokens (JSON has no NaN). */
  finalLoss: number | null;
  validationLoss: number | null;
  best: number | null;
  sinceBest: number;
  stoppedEarly: boolean;
  /** True once the loop has ended for good (all steps run, or stopped early); a cancel is not. */
  finished: boolean;
  /** Training time so far, resumed runs included. */
  elapsedSeconds: number;
}

/** Everything a run's continuation depends on, at a step boundary. */
export interface TrainerSnapshot {
  /** Steps completed. */
  step: number;
  totalSteps: number;
  position: DataPosition;
  /** The trained variables' values, in TrainableModel.variables order. */
  variables: Float32Array[];
  optimizer: AdamWSnapshot;
  loop: LoopState;
  /**
   * Every seeded generator: `batching` is the shuffle's (an epoch's order comes from seed + epoch,
   * so the seed and the epoch are its whole state) and the model's own (dropout). DP sampling and
   * noise use a secure generator, which has no state to keep.
   */
  random: { batching: { seed: number; epoch: number }; model: Record<string, number> };
  accountant: AccountantState | null;
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
  /** Hand out a snapshot (hooks.onCheckpoint) every this many steps; the end always gets one. */
  checkpointEvery?: number;
  /** Continue from this snapshot instead of starting over. */
  resume?: TrainerSnapshot;
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
  /** Validation loss when this step ran an evaluation, else null. */
  validationLoss: number | null;
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
}

/**
 * Mean loss per target token over `examples`, without gradients or dropout. Read once, asynchronously,
 * so that backends without synchronous reads (webgpu in Node) evaluate too.
 */
export async function evaluateLoss(model: TrainableModel, examples: TrainExample[]): Promise<number> {
  let total: tf.Scalar | null = null;
  let tokens = 0;
  for (const example of examples) {
    const loss = tf.tidy(() => model.exampleLoss(example, false));
    if (total === null) total = loss;
    else {
      const previous: tf.Scalar = total;
      total = previous.add(loss) as tf.Scalar;
      tf.dispose([previous, loss]);
    }
    tokens += targetCount(example);
  }
  if (tokens === 0 || total === null) {
    total?.dispose();
    throw new Error('no target tokens to evaluate');
  }
  const sum = (await total.data())[0]!;
  total.dispose();
  return sum / tokens;
}

export async function train(
  model: TrainableModel,
  data: { train: TrainExample[]; validation: TrainExample[] },
  options: TrainOptions,
  hooks: {
    onStep?: (metrics: StepMetrics) => void;
    onEvaluate?: (loss: number, step: number) => void;
    /** Awaited before the loop goes on, so the snapshot is written before the next step. */
    onCheckpoint?: (snapshot: TrainerSnapshot) => void | Promise<void>;
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
  const resume = options.resume;
  let step = 0;
  let position: DataPosition = START;
  const loop: LoopState = {
    tokensSeen: 0,
    finalLoss: null,
    validationLoss: null,
    best: null,
    sinceBest: 0,
    stoppedEarly: false,
    finished: false,
    elapsedSeconds: 0,
  };
  if (resume) {
    if (resume.totalSteps !== totalSteps) {
      throw new Error(
        `the checkpoint is of a ${resume.totalSteps}-step run, this one has ${totalSteps} steps`,
      );
    }
    if (resume.variables.length !== model.variables.length) {
      throw new Error(
        `the checkpoint holds ${resume.variables.length} variables, the model ${model.variables.length}`,
      );
    }
    model.variables.forEach((variable, i) => {
      if (resume.variables[i]!.length !== variable.size) {
        throw new Error(
          `checkpoint variable ${i} has ${resume.variables[i]!.length} values, not ${variable.size}`,
        );
      }
    });
    tf.tidy(() => {
      model.variables.forEach((variable, i) => {
        variable.assign(tf.tensor(resume.variables[i]!, variable.shape));
      });
    });
    model.restoreRandomState?.(resume.random.model);
    step = resume.step;
    position = resume.position;
    Object.assign(loop, resume.loop);
  }
  const optimizer = new AdamW(model.variables, { weightDecay: options.weightDecay ?? 0.01 });
  try {
    if (resume) optimizer.load(resume.optimizer);
  } catch (error) {
    optimizer.dispose();
    throw error;
  }
  const elapsedBefore = loop.elapsedSeconds;
  const started = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - started) / 1000;
  let cancelled = false;

  // Read asynchronously: every backend supports it, and the loop is paused while it runs.
  const snapshot = async (): Promise<TrainerSnapshot> => ({
    step,
    totalSteps,
    position,
    variables: await Promise.all(
      model.variables.map(async (variable) => ((await variable.data()) as Float32Array).slice()),
    ),
    optimizer: await optimizer.snapshot(),
    loop: { ...loop, elapsedSeconds: elapsed() },
    random: {
      batching: { seed: options.seed, epoch: position.epoch },
      model: model.randomState?.() ?? {},
    },
    accountant: options.dp?.accountant.state() ?? null,
  });

  try {
    if (!loop.finished) {
      for (const { epoch, examples, next } of plan.steps(position)) {
        const { grads, lossSum, tokens, norm } = await plan.gradients(model, examples);
        const learningRate = learningRateAt(step, schedule);
        optimizer.apply(grads, learningRate);
        tf.dispose(grads);
        plan.afterStep?.();

        step += 1;
        position = next;
        loop.tokensSeen += tokens;
        if (tokens > 0) loop.finalLoss = lossSum / tokens;

        let evaluated: number | null = null;
        if (options.evalEvery && step % options.evalEvery === 0 && data.validation.length > 0) {
          evaluated = await evaluateLoss(model, data.validation);
          loop.validationLoss = evaluated;
          hooks.onEvaluate?.(evaluated, step);
          if (loop.best === null || evaluated < loop.best) {
            loop.best = evaluated;
            loop.sinceBest = 0;
          } else {
            loop.sinceBest += 1;
            if (options.patience && loop.sinceBest >= options.patience) loop.stoppedEarly = true;
          }
        }
        const seconds = elapsed() - elapsedBefore;
        const stepsHere = step - (resume?.step ?? 0);
        hooks.onStep?.({
          step,
          totalSteps,
          epoch,
          loss: loop.finalLoss ?? Number.NaN,
          learningRate,
          validationLoss: evaluated,
          gradNorm: norm,
          tokensPerSecond: loop.tokensSeen / Math.max(elapsed(), 1e-9),
          etaSeconds: (seconds / stepsHere) * (totalSteps - step),
        });
        if (loop.stoppedEarly) break;
        if (hooks.signal?.aborted) {
          cancelled = true;
          break;
        }
        if (
          hooks.onCheckpoint &&
          options.checkpointEvery &&
          step % options.checkpointEvery === 0 &&
          step < totalSteps
        ) {
          await hooks.onCheckpoint(await snapshot());
        }
        await new Promise((resolve) => setImmediate(resolve)); // let progress and cancellation through
      }
      if (!cancelled) loop.finished = true;
    }
    // A cancelled run's snapshot keeps the loop's own counters: its closing evaluation below must
    // not count towards early stopping once it is resumed.
    if (cancelled && hooks.onCheckpoint) await hooks.onCheckpoint(await snapshot());
    let validationLoss = loop.validationLoss;
    let best = loop.best;
    if (data.validation.length > 0 && !loop.stoppedEarly) {
      validationLoss = await evaluateLoss(model, data.validation);
      best = best === null ? validationLoss : Math.min(best, validationLoss);
    }
    if (!cancelled) {
      loop.validationLoss = validationLoss;
      loop.best = best;
      if (hooks.onCheckpoint) await hooks.onCheckpoint(await snapshot());
    }
    return {
      steps: step,
      finalLoss: loop.finalLoss ?? Number.NaN,
      validationLoss,
      bestValidationLoss: best,
      stoppedEarly: loop.stoppedEarly,
      cancelled,
    };
  } finally {
    optimizer.dispose();
  }
}
