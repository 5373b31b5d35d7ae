/**
 * A LoRA fine-tuning job end to end: the dataset's examples, the base model with a fresh adapter,
 * the training loop with checkpoints, then the adapter (PEFT layout) and a merged Hugging Face
 * model directory with its lineage, registered as a candidate model version. Progress, per-step
 * metrics and events are on the job document, and on `trainingJobEvents` for live consumers.
 *
 * The loop runs in a child process (training-worker.ts), not on the caller's event loop and not
 * in a worker thread: a training run can use gigabytes and minutes of native or wasm tensor
 * memory, and tfjs-node's native addon is not safe to load in worker threads. A process of its
 * own keeps an out-of-memory or a native crash away from the server, which goes on serving chats;
 * its memory is all returned when it exits; and a killed worker (SIGKILL, OOM killer) is exactly
 * the failure the checkpoints exist for: `resumeTrainingJob` continues from the latest one.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectId } from 'mongodb';
import { deterministicId } from '../db/ids.js';
import type { Models } from '../db/models/index.js';
import { conflict, notFound } from '../errors.js';
import type { BackendChoice } from '../ml/backend.js';
import { readModelConfig } from '../ml/config.js';
import { noiseForTarget } from '../privacy/dp/calibrate.js';
import { assertWithinBudget, type PrivacyBudget } from '../privacy/dp/ledger.js';
import { latestCheckpoint } from './checkpoint.js';
import { readExamples } from './examples.js';
import { privacyUnits } from './plans.js';
import type {
  DpPlan,
  Hyperparameters,
  PrivacySpend,
  ProgressEvent,
  WorkerMessage,
  WorkOrder,
  WorkResult,
} from './work-order.js';

export type { PrivacySpend, ProgressEvent } from './work-order.js';

export interface TrainJobOptions {
  datasetId: string;
  /** LoRA (default) trains an adapter and merges it; full trains and exports every weight. */
  mode?: 'lora' | 'full';
  /** Base model directory; default the one the dataset was rendered for. */
  base?: string;
  loraRank: number;
  loraAlpha?: number;
  loraDropout?: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
  maxGradNorm?: number;
  weightDecay?: number;
  evalEvery?: number;
  /** A checkpoint every this many steps (default 50) and at the end. */
  checkpointEvery?: number;
  /** Checkpoints kept on disk (default 3). */
  keepCheckpoints?: number;
  seed: number;
  /** DP-SGD at example level: the noise is calibrated so the run spends at most targetEpsilon. */
  dp?: {
    targetEpsilon: number;
    delta: number;
    maxGradNorm: number;
    /** example (default) or customer: all of a customer's examples are one unit (user-level DP). */
    unit?: 'example' | 'customer';
  };
}

export interface TrainJobDeps {
  models: Models;
  dataDir: string;
  privacyBudget?: PrivacyBudget;
  /** The tensor backend the worker uses (TFJS_BACKEND); default auto. */
  backend?: BackendChoice;
}

export interface JobEvent {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  time: Date;
}

export interface TrainJobHooks {
  onStep?: (progress: ProgressEvent) => void;
  onEvent?: (event: JobEvent) => void;
  /** Aborting it cancels the job: the worker stops at the next step and writes a checkpoint. */
  signal?: AbortSignal;
  /** The worker process, once started, and the job's id. */
  onWorker?: (worker: ChildProcess, jobId: string) => void;
  /** A checkpoint was written (complete: it is renamed into place before this). */
  onCheckpoint?: (step: number, dir: string) => void;
}

export interface TrainJobResult {
  jobId: string;
  status: 'succeeded' | 'cancelled';
  version: string | null;
  modelDir: string | null;
  /** The PEFT adapter; null for full fine-tuning. */
  adapterDir: string | null;
  /** The step the run continued from, when it was a resume. */
  resumedFrom: number | null;
  metrics: { steps: number; trainLoss: number; validationLoss: number | null; durationMs: number };
  /** What a DP run spent (null without DP). */
  privacy: PrivacySpend | null;
}

/** Live job progress for the admin UI: 'progress' (jobId, ProgressEvent), 'event' (jobId, JobEvent). */
export const trainingJobEvents = new EventEmitter();

/** The worker died before reporting a result (killed, out of memory, crashed). The job can be resumed. */
export class TrainingWorkerDiedError extends Error {
  override name = 'TrainingWorkerDiedError';
  constructor(
    readonly jobId: string,
    readonly step: number,
    how: string,
  ) {
    super(
      `The training worker of job ${jobId} ${how} after step ${step}; ` +
        `\`parley train --resume ${jobId}\` continues it from its last checkpoint.`,
    );
  }
}

const WORKER = fileURLToPath(new URL('./training-worker.mjs', import.meta.url));
const LEASE_MS = 60_000;
const FLUSH_MS = 1_000;
const leaseOwner = () => `${hostname()}:${process.pid}`;

export async function runTrainingJob(
  deps: TrainJobDeps,
  options: TrainJobOptions,
  hooks: TrainJobHooks = {},
): Promise<TrainJobResult> {
  const prepared = await prepareTrainingJob(deps, options);
  return supervise(deps, prepared.order, prepared.datasetId, null, null, hooks);
}

export interface PreparedTrainingJob {
  jobId: string;
  order: WorkOrder;
  datasetId: ObjectId;
}

/**
 * Checks a run's inputs (the dataset, the base model, the DP plan against the privacy budget) and
 * records the job as queued; a run that cannot start fails here, before anything is queued.
 */
export async function prepareTrainingJob(
  deps: TrainJobDeps,
  options: TrainJobOptions,
): Promise<PreparedTrainingJob> {
  const { models } = deps;
  const dataset = ObjectId.isValid(options.datasetId)
    ? await models.Dataset.findById(options.datasetId).lean()
    : null;
  if (!dataset) throw notFound(`No dataset ${options.datasetId}.`, 'dataset_not_found');
  if (dataset.status !== 'ready')
    throw conflict(`Dataset ${options.datasetId} is ${dataset.status}, not ready.`, 'dataset_not_ready');
  const base = options.base ?? dataset.render?.baseModel;
  if (!base) throw notFound('No base model: pass one.', 'base_not_found');
  const trainExamples = await readExamples(dataset.artifactPath!, 'train');
  const trainCount = trainExamples.length;
  if (trainCount === 0)
    throw conflict(`Dataset ${options.datasetId} has no training examples.`, 'dataset_empty');
  await readModelConfig(base); // a missing or unsupported base fails here, not in the worker

  let dp: DpPlan | null = null;
  let targetEpsilon: number | null = null;
  if (options.dp) {
    const unit = options.dp.unit ?? 'example';
    // q is over privacy units: with customer-level DP, a batch samples customers, not examples.
    const unitCount = privacyUnits(trainExamples, unit).length;
    const sampleRate = Math.min(1, options.batchSize / unitCount);
    const steps = Math.max(1, Math.round(options.epochs / sampleRate));
    const calibrated = noiseForTarget({
      targetEpsilon: options.dp.targetEpsilon,
      delta: options.dp.delta,
      sampleRate,
      steps,
    });
    dp = {
      unit,
      noiseMultiplier: calibrated.noiseMultiplier,
      sampleRate,
      steps,
      clipNorm: options.dp.maxGradNorm,
      delta: options.dp.delta,
    };
    targetEpsilon = options.dp.targetEpsilon;
    // Refuse before anything starts: a run that would exceed the budget never begins.
    await assertWithinBudget(
      models,
      { datasetId: dataset._id, epsilon: calibrated.epsilon, delta: options.dp.delta, unit },
      deps.privacyBudget ?? {},
    );
  }

  const jobId = new ObjectId();
  const hyperparameters: Hyperparameters = {
    mode: options.mode ?? 'lora',
    loraRank: options.loraRank,
    loraAlpha: options.loraAlpha ?? options.loraRank * 2,
    loraDropout: options.loraDropout ?? 0.05,
    epochs: options.epochs,
    learningRate: options.learningRate,
    batchSize: options.batchSize,
    maxGradNorm: options.maxGradNorm ?? 1,
    weightDecay: options.weightDecay ?? 0.01,
    seed: options.seed,
    evalEvery: options.evalEvery ?? null,
    checkpointEvery: options.checkpointEvery ?? 50,
    keepCheckpoints: options.keepCheckpoints ?? 3,
  };
  const jobDir = path.join(deps.dataDir, 'training', jobId.toHexString());
  await models.TrainingJob.create({
    _id: jobId,
    datasetId: dataset._id,
    baseModel: base,
    mode: options.mode ?? 'lora',
    hyperparameters,
    privacy: dp
      ? {
          enabled: true,
          targetEpsilon,
          delta: dp.delta,
          noiseMultiplier: dp.noiseMultiplier,
          accountant: 'rdp',
          sampleRate: dp.sampleRate,
          plannedSteps: dp.steps,
          clipNorm: dp.clipNorm,
          unit: dp.unit ?? 'example',
        }
      : { enabled: false },
    status: 'queued',
    jobDir,
  });
  return {
    jobId: jobId.toHexString(),
    datasetId: dataset._id,
    order: {
      jobId: jobId.toHexString(),
      jobDir,
      datasetDir: dataset.artifactPath!,
      base,
      backend: deps.backend ?? 'auto',
      hyperparameters,
      dp,
      lineage: {
        baseModel: base,
        dataSnapshot: dataset._id.toHexString(),
        hyperParameters: { ...hyperparameters },
        trainingJob: jobId.toHexString(),
      },
    },
  };
}

/**
 * Continues a job that stopped before it finished (cancelled, failed, or whose process died) from
 * its latest checkpoint, with the hyper-parameters, seed and DP plan it was started with.
 */
export async function resumeTrainingJob(
  deps: TrainJobDeps,
  jobId: string,
  hooks: TrainJobHooks = {},
): Promise<TrainJobResult> {
  return continueTrainingJob(deps, jobId, hooks, null);
}

/** Where a queued job's inputs and outputs are on this machine (see server/artifacts). */
export interface QueuedJobPaths {
  datasetDir: string;
  base: string;
  jobDir: string;
}

/**
 * Runs a job from the queue (server/jobs): the caller holds the queue's lease on it, which is
 * what keeps other workers out, so a previous holder's lease on the training job does not count.
 * It starts from the latest checkpoint when an earlier attempt left one, else from the start.
 */
export async function runQueuedTrainingJob(
  deps: TrainJobDeps,
  jobId: string,
  paths: QueuedJobPaths,
  hooks: TrainJobHooks = {},
): Promise<TrainJobResult> {
  return continueTrainingJob(deps, jobId, hooks, paths);
}

async function continueTrainingJob(
  deps: TrainJobDeps,
  jobId: string,
  hooks: TrainJobHooks,
  queued: QueuedJobPaths | null,
): Promise<TrainJobResult> {
  const { models } = deps;
  const job = ObjectId.isValid(jobId) ? await models.TrainingJob.findById(jobId).lean() : null;
  if (!job) throw notFound(`No training job ${jobId}.`, 'job_not_found');
  if (job.status === 'succeeded')
    throw conflict(`Training job ${jobId} has already succeeded.`, 'job_finished');
  if (!queued && (job.status === 'running' || job.status === 'queued') && leaseIsLive(job.lease)) {
    throw conflict(
      `Training job ${jobId} is running (held by ${job.lease?.owner} until ${job.lease?.expiresAt?.toISOString()}).`,
      'job_running',
    );
  }
  const dataset = await models.Dataset.findById(job.datasetId).lean();
  if (!dataset?.artifactPath) throw notFound(`The dataset of job ${jobId} is gone.`, 'dataset_not_found');
  const jobDir = queued?.jobDir ?? job.jobDir ?? path.join(deps.dataDir, 'training', jobId);
  // Jobs from before checkpoints were configurable get the defaults they would have had.
  const hyperparameters: Hyperparameters = {
    evalEvery: null,
    checkpointEvery: 50,
    keepCheckpoints: 3,
    ...(job.hyperparameters as Partial<Hyperparameters>),
  } as Hyperparameters;
  const privacy = job.privacy;
  if (
    privacy?.enabled &&
    (privacy.sampleRate == null || privacy.plannedSteps == null || privacy.clipNorm == null)
  ) {
    throw conflict(
      `Training job ${jobId} does not record its DP plan, so it cannot be resumed.`,
      'job_not_resumable',
    );
  }
  const dp: DpPlan | null = privacy?.enabled
    ? {
        noiseMultiplier: privacy.noiseMultiplier!,
        unit: (privacy.unit as 'example' | 'customer' | null) ?? 'example',
        sampleRate: privacy.sampleRate!,
        steps: privacy.plannedSteps!,
        clipNorm: privacy.clipNorm!,
        delta: privacy.delta!,
      }
    : null;
  const latest = await latestCheckpoint(jobDir);
  const resumeFrom = queued ? (latest?.step ?? null) : (latest?.step ?? 0);
  return supervise(
    deps,
    {
      jobId,
      jobDir,
      datasetDir: queued?.datasetDir ?? dataset.artifactPath,
      base: queued?.base ?? job.baseModel,
      backend: deps.backend ?? 'auto',
      hyperparameters,
      dp,
      lineage: {
        baseModel: job.baseModel,
        dataSnapshot: dataset._id.toHexString(),
        hyperParameters: { ...hyperparameters },
        trainingJob: jobId,
      },
    },
    dataset._id,
    resumeFrom,
    job.lease?.owner ?? null,
    hooks,
    queued !== null,
  );
}

/** Asks the process running `jobId` to stop it at the next step (it writes a checkpoint first). */
export async function cancelTrainingJob(models: Models, jobId: string): Promise<boolean> {
  if (!ObjectId.isValid(jobId)) return false;
  const updated = await models.TrainingJob.updateOne(
    { _id: new ObjectId(jobId), status: { $in: ['queued', 'running'] } },
    { $set: { cancelRequested: true } },
  );
  return updated.modifiedCount > 0;
}

function leaseIsLive(lease: { owner?: string | null; expiresAt?: Date | null } | null | undefined): boolean {
  if (!lease?.owner || !lease.expiresAt) return false;
  const [host, pid] = lease.owner.split(':');
  if (host === hostname() && pid) {
    // On this machine the owner's pid tells for sure: a dead process holds nothing.
    try {
      process.kill(Number(pid), 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return lease.expiresAt.getTime() > Date.now();
}

/**
 * Batches the job document's writes (progress, per-step metrics, events, lease renewal) into one
 * update at a time, so a fast loop never queues thousands of writes; each write also reads back
 * whether a cancel was requested.
 */
class JobRecorder {
  private metrics: Record<string, unknown>[] = [];
  private events: JobEvent[] = [];
  private fields: Record<string, unknown> = {};
  private inFlight: Promise<void> | null = null;
  cancelRequested = false;
  lastError: Error | null = null;

  constructor(
    private readonly models: Models,
    private readonly jobId: ObjectId,
    private readonly owner: string,
  ) {}

  private get dirty(): boolean {
    return this.metrics.length > 0 || this.events.length > 0 || Object.keys(this.fields).length > 0;
  }

  set(fields: Record<string, unknown>): void {
    Object.assign(this.fields, fields);
    this.kick();
  }

  metric(entry: Record<string, unknown>): void {
    this.metrics.push(entry);
    this.kick();
  }

  event(event: JobEvent): void {
    this.events.push(event);
    this.kick();
  }

  /** Renews the lease and polls for a cancel even when no step reports (slow steps). */
  tick(): void {
    this.fields['lease.expiresAt'] = new Date(Date.now() + LEASE_MS);
    this.kick();
  }

  private kick(): void {
    if (this.inFlight) return;
    this.inFlight = this.write().finally(() => {
      this.inFlight = null;
      if (this.dirty) this.kick();
    });
  }

  private async write(): Promise<void> {
    const update: Record<string, Record<string, unknown>> = {
      $set: { ...this.fields, 'lease.expiresAt': new Date(Date.now() + LEASE_MS) },
    };
    if (this.metrics.length > 0 || this.events.length > 0) {
      update.$push = {};
      if (this.metrics.length > 0) update.$push.metrics = { $each: this.metrics };
      if (this.events.length > 0) update.$push.events = { $each: this.events };
    }
    this.metrics = [];
    this.events = [];
    this.fields = {};
    try {
      // Only while this process holds the job: a worker that lost it to another writes nothing.
      const job = await this.models.TrainingJob.findOneAndUpdate(
        { _id: this.jobId, 'lease.owner': this.owner },
        update,
        {
          returnDocument: 'after',
          projection: { cancelRequested: 1 },
        },
      ).lean();
      if (job?.cancelRequested) this.cancelRequested = true;
    } catch (error) {
      this.lastError = error as Error; // progress is best effort; the result is written on its own
    }
  }

  async flush(): Promise<void> {
    while (this.inFlight || this.dirty) {
      if (!this.inFlight) this.kick();
      await this.inFlight;
    }
  }
}

async function supervise(
  deps: TrainJobDeps,
  order: WorkOrder,
  datasetId: ObjectId,
  resumeFrom: number | null,
  expectedOwner: string | null,
  hooks: TrainJobHooks,
  fromQueue = false,
): Promise<TrainJobResult> {
  const { models } = deps;
  const jobId = new ObjectId(order.jobId);
  const started = performance.now();
  const owner = leaseOwner();
  const recorder = new JobRecorder(models, jobId, owner);
  const note = (level: JobEvent['level'], message: string) => {
    const event = { level, message, time: new Date() };
    recorder.event(event);
    hooks.onEvent?.(event);
    trainingJobEvents.emit('event', order.jobId, event);
  };

  const claim: Record<string, unknown> = {
    status: 'running',
    // A resume by hand is meant to run; a cancel asked for while a job waited in the queue stands.
    ...(fromQueue ? {} : { cancelRequested: false }),
    error: null,
    finishedAt: null,
    lease: { owner, expiresAt: new Date(Date.now() + LEASE_MS) },
  };
  if (resumeFrom === null) {
    claim.startedAt = new Date();
    // A queued job's earlier attempt may have died before its first checkpoint: start clean.
    claim.metrics = [];
    claim['progress.step'] = 0;
  } else {
    // Steps after the checkpoint belong to a trajectory that is gone; the resumed run redoes them.
    const job = await models.TrainingJob.findById(jobId, { metrics: 1 }).lean();
    claim.metrics = (job?.metrics ?? []).filter((m) => m.step <= resumeFrom);
    claim['progress.step'] = resumeFrom;
  }
  // Claimed only if nobody else did since the caller looked (two resumes of one job at once).
  const claimed = await models.TrainingJob.updateOne(
    { _id: jobId, 'lease.owner': expectedOwner },
    { $set: claim },
  );
  if (claimed.modifiedCount !== 1) {
    throw conflict(`Training job ${order.jobId} was claimed by another process.`, 'job_running');
  }
  note('info', resumeFrom === null ? 'training started' : `resuming from step ${resumeFrom}`);

  let lastStep = resumeFrom ?? 0;
  let result: WorkResult;
  const worker = fork(WORKER, [], {
    execArgv: [],
    serialization: 'json',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  worker.stdout!.on('data', keep);
  worker.stderr!.on('data', keep);
  const cancel = () => {
    if (worker.connected) worker.send({ type: 'cancel' });
  };
  const timer = setInterval(() => {
    recorder.tick();
    if (recorder.cancelRequested) cancel();
  }, FLUSH_MS);
  timer.unref();
  try {
    hooks.onWorker?.(worker, order.jobId);
    if (hooks.signal?.aborted) cancel();
    hooks.signal?.addEventListener('abort', cancel, { once: true });
    result = await new Promise<WorkResult>((resolve, reject) => {
      let settled = false;
      worker.on('message', (message: WorkerMessage) => {
        switch (message.type) {
          case 'started':
            note(
              'info',
              `worker started on the ${message.backend} backend, ${message.trainExamples} training examples`,
            );
            break;
          case 'step': {
            const p = message.progress;
            lastStep = p.step;
            recorder.set({
              'progress.step': p.step,
              'progress.totalSteps': p.totalSteps,
              'progress.epoch': p.epoch,
              'progress.trainLoss': p.loss,
              'progress.learningRate': p.learningRate,
              'progress.tokensPerSecond': p.tokensPerSecond,
              'progress.etaSeconds': p.etaSeconds,
              ...(p.validationLoss === null ? {} : { 'progress.validationLoss': p.validationLoss }),
              ...(p.epsilon === null
                ? {}
                : { 'progress.epsilonSpent': p.epsilon, 'privacy.epsilonSpent': p.epsilon }),
            });
            recorder.metric({
              step: p.step,
              epoch: p.epoch,
              loss: p.loss,
              validationLoss: p.validationLoss,
              learningRate: p.learningRate,
              tokensPerSecond: p.tokensPerSecond,
              etaSeconds: p.etaSeconds,
              epsilon: p.epsilon,
            });
            if (recorder.cancelRequested) cancel();
            hooks.onStep?.(p);
            trainingJobEvents.emit('progress', order.jobId, p);
            break;
          }
          case 'checkpoint':
            recorder.set({ checkpointPath: message.dir });
            note('debug', `checkpoint at step ${message.step}`);
            hooks.onCheckpoint?.(message.step, message.dir);
            break;
          case 'done':
            settled = true;
            resolve(message.result);
            break;
          case 'failed':
            settled = true;
            reject(new Error(message.message));
            break;
        }
      });
      worker.on('error', (error) => {
        if (!settled) {
          settled = true;
          reject(error);
        }
      });
      worker.on('exit', (code, signal) => {
        if (settled) return;
        settled = true;
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        const tail = output.join('').trim().split('\n').slice(-5).join('\n');
        const error = new TrainingWorkerDiedError(order.jobId, lastStep, how);
        if (tail) error.message += `\n${tail}`;
        reject(error);
      });
      worker.send({ type: 'start', order });
    });
  } catch (error) {
    clearInterval(timer);
    hooks.signal?.removeEventListener('abort', cancel);
    if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    note('error', (error as Error).message);
    await recorder.flush();
    await models.TrainingJob.updateOne(
      { _id: jobId, 'lease.owner': owner },
      {
        $set: {
          status: 'failed',
          finishedAt: new Date(),
          error: (error as Error).message,
          'lease.owner': null,
          'lease.expiresAt': null,
        },
      },
    ).catch(() => undefined);
    throw error;
  }
  clearInterval(timer);
  hooks.signal?.removeEventListener('abort', cancel);

  const metrics = {
    steps: result.steps,
    trainLoss: result.finalLoss,
    validationLoss: result.validationLoss,
    durationMs: Math.round(result.trainingSeconds * 1000 || performance.now() - started),
  };
  const privacy: PrivacySpend | null =
    order.dp && result.epsilon !== null
      ? {
          epsilon: result.epsilon,
          delta: order.dp.delta,
          noiseMultiplier: order.dp.noiseMultiplier,
          sampleRate: order.dp.sampleRate,
          steps: result.steps,
          clipNorm: order.dp.clipNorm,
          accountant: 'rdp',
          unit: order.dp.unit ?? 'example',
        }
      : null;
  const finish = async (status: 'succeeded' | 'cancelled', fields: Record<string, unknown> = {}) => {
    note('info', `training ${status} after ${result.steps} steps`);
    await recorder.flush();
    await models.TrainingJob.updateOne(
      { _id: jobId, 'lease.owner': owner },
      {
        $set: {
          status,
          finishedAt: new Date(),
          cancelRequested: false,
          'progress.validationLoss': metrics.validationLoss,
          'lease.owner': null,
          'lease.expiresAt': null,
          ...(privacy
            ? { 'privacy.epsilonSpent': privacy.epsilon, 'progress.epsilonSpent': privacy.epsilon }
            : {}),
          ...fields,
        },
      },
    );
  };
  const common = {
    jobId: order.jobId,
    adapterDir: result.adapterDir,
    resumedFrom: resumeFrom,
    metrics,
    privacy,
  };
  if (result.status === 'cancelled') {
    await finish('cancelled');
    return { ...common, status: 'cancelled', version: null, modelDir: null };
  }

  const version = `v${(await models.ModelVersion.countDocuments()) + 1}`;
  const modelDir = path.join(deps.dataDir, 'models', version);
  await mkdir(path.dirname(modelDir), { recursive: true });
  await rename(result.stagedModelDir!, modelDir);
  const versionId = deterministicId('model-version', version);
  const config = await readModelConfig(modelDir);
  await models.ModelVersion.create({
    _id: versionId,
    version,
    status: 'candidate',
    artifactPath: modelDir,
    baseModel: order.base,
    architecture: config.architecture,
    datasetId,
    trainingJobId: jobId,
    hyperparameters: order.hyperparameters,
    metrics: {
      trainLoss: metrics.trainLoss,
      ...(metrics.validationLoss === null
        ? {}
        : { validationLoss: metrics.validationLoss, perplexity: Math.exp(metrics.validationLoss) }),
    },
    ...(privacy ? { privacy } : {}),
  });
  await finish('succeeded', { outputModelVersionId: versionId });
  return { ...common, status: 'succeeded', version, modelDir };
}
