/**
 * The training pages' logic: the form (defaults from TRAINING_DEFAULTS, checks before the server's
 * own), and a job's figures, from the stored job (GET /api/training-jobs/:id) merged with live
 * `training:progress` events, for the loss chart and the progress line.
 */
import {
  TRAINING_DEFAULTS,
  type TrainingProgressEvent,
  type TrainingRequest,
} from '../../server/realtime/agent/protocol.js';
import type { JobLogEntry, StepMetrics, TrainingJobDetail } from './admin-api.js';

/** The form's fields, as typed (strings), so what someone typed stays while it is wrong. */
export interface TrainingForm {
  datasetId: string;
  mode: 'lora' | 'full';
  epochs: string;
  learningRate: string;
  batchSize: string;
  loraRank: string;
  seed: string;
  dp: boolean;
  targetEpsilon: string;
  delta: string;
  unit: 'example' | 'customer';
  maxGradNorm: string;
}

export type TrainingField = keyof TrainingForm;

export function trainingFormDefaults(datasetId = ''): TrainingForm {
  return {
    datasetId,
    mode: TRAINING_DEFAULTS.mode,
    epochs: String(TRAINING_DEFAULTS.epochs),
    learningRate: String(TRAINING_DEFAULTS.learningRate),
    batchSize: String(TRAINING_DEFAULTS.batchSize),
    loraRank: String(TRAINING_DEFAULTS.loraRank),
    seed: String(TRAINING_DEFAULTS.seed),
    dp: false,
    targetEpsilon: '8',
    delta: String(TRAINING_DEFAULTS.delta),
    unit: 'example',
    maxGradNorm: String(TRAINING_DEFAULTS.maxGradNorm),
  };
}

/** One line of help per field, shown under it. */
export const TRAINING_HELP: Record<Exclude<TrainingField, 'dp'>, string> = {
  datasetId: 'The dataset to fine-tune on. Only ready datasets can be trained on.',
  mode: 'LoRA trains small adapter matrices (fast, little memory); full fine-tuning changes every weight.',
  epochs: 'Passes over the training examples. More can fit better, or overfit: watch the validation loss.',
  learningRate: 'Step size of each update. Too high diverges, too low learns slowly. 2e-4 suits LoRA.',
  batchSize: 'Examples per step. Larger is smoother and uses more memory.',
  loraRank: 'Rank of the LoRA adapters: higher can learn more and costs more. LoRA only.',
  seed: 'Fixes shuffling and initialization, so the same settings give the same model.',
  targetEpsilon: 'The privacy budget this run may spend (ε). Lower is more private and adds more noise.',
  delta: 'The chance the ε guarantee does not hold; keep it well below 1 / number of examples.',
  unit: 'What the guarantee protects: one example, or all of one customer’s conversations together.',
  maxGradNorm: 'Each example’s (or customer’s) gradient is clipped to this norm before noise is added.',
};

type Check = { kind: 'int' | 'number'; min: number; max: number; exclusiveMin?: boolean };

const CHECKS: Partial<Record<TrainingField, Check>> = {
  epochs: { kind: 'int', min: 1, max: 100 },
  learningRate: { kind: 'number', min: 0, max: 1, exclusiveMin: true },
  batchSize: { kind: 'int', min: 1, max: 1024 },
  loraRank: { kind: 'int', min: 1, max: 256 },
  seed: { kind: 'int', min: 1, max: 2 ** 31 - 1 },
  targetEpsilon: { kind: 'number', min: 0, max: 100, exclusiveMin: true },
  delta: { kind: 'number', min: 0, max: 0.1, exclusiveMin: true },
  maxGradNorm: { kind: 'number', min: 0, max: 100, exclusiveMin: true },
};

function checkNumber(text: string, check: Check): { value: number } | { error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { error: 'Required.' };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { error: 'Enter a number.' };
  if (check.kind === 'int' && !Number.isInteger(value)) return { error: 'Enter a whole number.' };
  const low = check.exclusiveMin ? value <= check.min : value < check.min;
  if (low || value > check.max)
    return {
      error: check.exclusiveMin
        ? `Enter a number above ${check.min} and at most ${check.max}.`
        : `Enter a number from ${check.min} to ${check.max}.`,
    };
  return { value };
}

export type TrainingFormResult =
  | { ok: true; request: TrainingRequest }
  | { ok: false; errors: Partial<Record<TrainingField, string>> };

/** The request to send, or what is wrong with each field. */
export function trainingRequest(form: TrainingForm): TrainingFormResult {
  const errors: Partial<Record<TrainingField, string>> = {};
  const values: Partial<Record<TrainingField, number>> = {};
  if (!/^[0-9a-f]{24}$/.test(form.datasetId)) errors.datasetId = 'Pick a dataset.';
  const fields: TrainingField[] = ['epochs', 'learningRate', 'batchSize', 'seed'];
  if (form.mode === 'lora') fields.push('loraRank');
  if (form.dp) fields.push('targetEpsilon', 'delta', 'maxGradNorm');
  for (const field of fields) {
    const result = checkNumber(String(form[field]), CHECKS[field]!);
    if ('error' in result) errors[field] = result.error;
    else values[field] = result.value;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    request: {
      datasetId: form.datasetId,
      mode: form.mode,
      epochs: values.epochs!,
      learningRate: values.learningRate!,
      batchSize: values.batchSize!,
      ...(form.mode === 'lora' ? { loraRank: values.loraRank! } : {}),
      seed: values.seed!,
      dp: form.dp
        ? {
            targetEpsilon: values.targetEpsilon!,
            delta: values.delta!,
            unit: form.unit,
            maxGradNorm: values.maxGradNorm!,
          }
        : null,
    },
  };
}

/** A stored step from a live progress event. */
export function stepFromEvent(event: TrainingProgressEvent): StepMetrics {
  return {
    step: event.step,
    epoch: event.epoch,
    loss: event.loss,
    validationLoss: event.validationLoss,
    learningRate: event.learningRate,
    tokensPerSecond: event.tokensPerSecond,
    etaSeconds: event.etaSeconds,
    epsilon: event.epsilon,
  };
}

/**
 * Steps in order, one per step number: a live step replaces a stored one with the same number
 * (events can arrive before or after the stored job is read), and a resumed run's replayed steps
 * replace the old ones.
 */
export function mergeSteps(steps: readonly StepMetrics[], incoming: readonly StepMetrics[]): StepMetrics[] {
  if (incoming.length === 0) return steps as StepMetrics[];
  const byStep = new Map<number, StepMetrics>();
  for (const step of steps) byStep.set(step.step, step);
  for (const step of incoming) byStep.set(step.step, step);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** uPlot's data: x (steps), training loss, validation loss (null where a step had no evaluation). */
export type LossSeries = [number[], (number | null)[], (number | null)[]];

export function lossSeries(steps: readonly StepMetrics[]): LossSeries {
  const x: number[] = [];
  const loss: (number | null)[] = [];
  const validation: (number | null)[] = [];
  for (const step of steps) {
    x.push(step.step);
    loss.push(finite(step.loss));
    validation.push(finite(step.validationLoss));
  }
  return [x, loss, validation];
}

const finite = (value: number | null | undefined): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/** What the job view shows above the chart: where the run is, how fast, how long to go. */
export interface JobFigures {
  step: number;
  totalSteps: number;
  epoch: number;
  /** 0..1 */
  fraction: number;
  loss: number | null;
  validationLoss: number | null;
  tokensPerSecond: number | null;
  etaSeconds: number | null;
  epsilon: number | null;
}

export function jobFigures(
  job: Pick<TrainingJobDetail, 'progress' | 'status'>,
  steps: readonly StepMetrics[],
  liveTotal: number | null,
): JobFigures {
  const last = steps.at(-1);
  const progress = job.progress;
  const step = Math.max(last?.step ?? 0, progress?.step ?? 0);
  const totalSteps = liveTotal ?? progress?.totalSteps ?? 0;
  const lastValidation = [...steps].reverse().find((s) => finite(s.validationLoss) !== null);
  const done = job.status === 'succeeded';
  return {
    step,
    totalSteps,
    epoch: last?.epoch ?? progress?.epoch ?? 0,
    fraction: done ? 1 : totalSteps > 0 ? Math.min(1, step / totalSteps) : 0,
    loss: finite(last?.loss) ?? finite(progress?.trainLoss),
    validationLoss: finite(lastValidation?.validationLoss) ?? finite(progress?.validationLoss),
    tokensPerSecond: finite(last?.tokensPerSecond) ?? finite(progress?.tokensPerSecond),
    etaSeconds: job.status === 'running' ? (finite(last?.etaSeconds) ?? finite(progress?.etaSeconds)) : null,
    epsilon: finite(last?.epsilon) ?? finite(progress?.epsilonSpent),
  };
}

/** The log with live entries added once (a reload reads the stored log, which has them too). */
export function mergeLog(log: readonly JobLogEntry[], entry: JobLogEntry): JobLogEntry[] {
  if (log.some((e) => e.time === entry.time && e.message === entry.message)) return log as JobLogEntry[];
  return [...log, entry];
}

export const isFinished = (status: string): boolean =>
  status === 'succeeded' || status === 'failed' || status === 'cancelled';
