/**
 * A training worker: leases jobs from the queue and runs them, one at a time. Training runs in
 * its own child process (server/train/job.ts); evaluation runs here, so a web server's own loop
 * takes only training jobs. While a job runs, a heartbeat every third of the lease renews it,
 * copies its progress onto the queue document and reads whether it was cancelled; a worker that
 * finds its lease gone (it stalled, and another worker took the job over) kills its training
 * process and writes nothing more.
 */
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import type { ArtifactStore } from '../artifacts/store.js';
import { resolveArtifact } from '../artifacts/store.js';
import type { Models } from '../db/models/index.js';
import type { CompareOptions } from '../evaluate/compare.js';
import type { BackendChoice } from '../ml/backend.js';
import type { PrivacyBudget } from '../privacy/dp/ledger.js';
import { runQueuedTrainingJob, TrainingWorkerDiedError, type TrainJobResult } from '../train/job.js';
import {
  finishJob,
  heartbeatJob,
  type LeasedJob,
  leaseJob,
  releaseJob,
  type WorkerJobKind,
} from './queue.js';
import { markTrainingCancelled, type TrainParams } from './training-queue.js';

export type WorkerEvent =
  | { event: 'leased'; jobId: string; kind: WorkerJobKind; attempt: number; trainingJobId: string | null }
  | { event: 'progress'; jobId: string; step: number; totalSteps: number; loss: number }
  | { event: 'checkpoint'; jobId: string; step: number }
  | {
      event: 'finished';
      jobId: string;
      status: 'succeeded' | 'failed' | 'cancelled';
      result: unknown;
      error: string | null;
    }
  | { event: 'released'; jobId: string; reason: string }
  | { event: 'lost'; jobId: string };

/** The options of `parley eval compare` a queued `evaluate` job carries. */
export type EvaluateParams = { version: string } & Omit<CompareOptions, 'onProgress' | 'systemPrompt'>;

export interface JobWorkerDeps {
  models: Models;
  store: ArtifactStore;
  leaseMs: number;
  pollMs: number;
  kinds?: readonly WorkerJobKind[];
  train: { privacyBudget?: PrivacyBudget; backend: BackendChoice };
  /** Runs an evaluation (the worker CLI passes compareVersions; a web server runs none). */
  evaluate?: (params: EvaluateParams, onProgress: (line: string) => void) => Promise<unknown>;
  onEvent?: (event: WorkerEvent) => void;
  /** Default host:pid, the same owner the training job's own lease names. */
  owner?: string;
}

type StopReason = 'cancel' | 'shutdown' | 'lost';

export class JobWorker {
  readonly owner: string;
  /** Training jobs this worker ran (the console's server relays their progress live). */
  readonly trainingJobIds = new Set<string>();
  private stopping = false;
  private stopCurrent: ((why: StopReason) => void) | null = null;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly deps: JobWorkerDeps) {
    this.owner = deps.owner ?? `${hostname()}:${process.pid}`;
  }

  /** Runs jobs until stop(); with `once`, until one job was run. */
  start(options: { once?: boolean } = {}): Promise<void> {
    this.loop ??= (async () => {
      while (!this.stopping) {
        const ran = await this.runOne().catch(() => false);
        if (ran && options.once) break;
        if (!ran && !this.stopping)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.deps.pollMs);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        this.wake = null;
      }
    })();
    return this.loop;
  }

  /** Looks for a queued job now instead of at the next poll. */
  poke(): void {
    this.wake?.();
  }

  /** Stops the loop; a training job in progress stops at its next step with a checkpoint and goes back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopCurrent?.('shutdown');
    this.wake?.();
    await this.loop;
  }

  /** Leases and runs one job; false when none was queued. */
  async runOne(): Promise<boolean> {
    const { models } = this.deps;
    const job = await leaseJob(models, {
      owner: this.owner,
      leaseMs: this.deps.leaseMs,
      ...(this.deps.kinds ? { kinds: this.deps.kinds } : {}),
      onGiveUp: async (given, error) => {
        if (given.trainingJobId)
          await models.TrainingJob.updateOne(
            { _id: given.trainingJobId, status: { $in: ['queued', 'running'] } },
            {
              $set: {
                status: 'failed',
                error,
                finishedAt: new Date(),
                lease: { owner: null, expiresAt: null },
              },
            },
          );
        this.emit({
          event: 'finished',
          jobId: given._id.toHexString(),
          status: 'failed',
          result: null,
          error,
        });
      },
    });
    if (!job) return false;
    await this.run(job);
    return true;
  }

  private emit(event: WorkerEvent): void {
    this.deps.onEvent?.(event);
  }

  private async run(job: LeasedJob): Promise<void> {
    const { models, leaseMs } = this.deps;
    const jobId = job._id.toHexString();
    const trainingJobId = job.trainingJobId?.toHexString() ?? null;
    this.emit({ event: 'leased', jobId, kind: job.kind, attempt: job.attempts, trainingJobId });
    const finish = async (
      status: 'succeeded' | 'failed' | 'cancelled',
      result: unknown,
      error: string | null,
    ) => {
      if (await finishJob(models, job._id, this.owner, status, { result, error }))
        this.emit({ event: 'finished', jobId, status, result, error });
      else this.emit({ event: 'lost', jobId });
    };
    if (job.cancelRequested) {
      if (trainingJobId) await markTrainingCancelled(models, trainingJobId);
      await finish('cancelled', null, null);
      return;
    }

    const controller = new AbortController();
    let reason: StopReason | null = null;
    let child: ChildProcess | undefined;
    let progress: Record<string, unknown> | undefined;
    const stopWith = (why: StopReason) => {
      reason ??= why;
      if (why === 'lost') child?.kill('SIGKILL');
      controller.abort();
    };
    this.stopCurrent = stopWith;
    if (this.stopping) stopWith('shutdown');
    let beating: Promise<void> | null = null;
    const beat = async () => {
      const heartbeat = await heartbeatJob(models, job._id, this.owner, leaseMs, progress);
      if (!heartbeat.held) stopWith('lost');
      else if (heartbeat.cancelRequested) stopWith('cancel');
    };
    const timer = setInterval(() => {
      beating ??= beat()
        .catch(() => undefined)
        .finally(() => {
          beating = null;
        });
    }, leaseMs / 3);
    try {
      let outcome: { status: 'succeeded' | 'cancelled'; result: unknown };
      if (job.kind === 'train') {
        if (trainingJobId) this.trainingJobIds.add(trainingJobId);
        const trained = await this.train(job.params as unknown as TrainParams, controller.signal, {
          onWorker: (worker) => {
            child = worker;
            if (reason === 'lost') worker.kill('SIGKILL');
          },
          onStep: (p) => {
            progress = { step: p.step, totalSteps: p.totalSteps, epoch: p.epoch, loss: p.loss };
            this.emit({ event: 'progress', jobId, step: p.step, totalSteps: p.totalSteps, loss: p.loss });
          },
          onCheckpoint: (step) => this.emit({ event: 'checkpoint', jobId, step }),
        });
        outcome = { status: trained.status, result: trained };
      } else {
        outcome = await this.evaluate(job.params as unknown as EvaluateParams, controller.signal, (line) => {
          progress = { line };
        });
      }
      clearInterval(timer);
      await beating;
      if (reason === 'lost') this.emit({ event: 'lost', jobId });
      else if (outcome.status === 'cancelled' && reason === 'shutdown') await this.release(job, 'shutdown');
      else await finish(outcome.status, outcome.result, null);
    } catch (error) {
      clearInterval(timer);
      await beating;
      const message = (error as Error).message;
      if (reason === 'lost') this.emit({ event: 'lost', jobId });
      else if (error instanceof TrainingWorkerDiedError && job.attempts < job.maxAttempts)
        // The training process died on its own (out of memory, a crash): another attempt
        // resumes from the latest checkpoint, up to the job's attempts.
        await this.release(job, message, true);
      else await finish('failed', null, message);
    } finally {
      clearInterval(timer);
      this.stopCurrent = null;
    }
  }

  private async release(job: LeasedJob, why: string, countAttempt = false): Promise<void> {
    const { models } = this.deps;
    const jobId = job._id.toHexString();
    if (job.trainingJobId)
      // The training job waits in the queue again, not ended: the next worker resumes it.
      await models.TrainingJob.updateOne(
        { _id: job.trainingJobId, status: { $in: ['cancelled', 'failed'] } },
        { $set: { status: 'queued', finishedAt: null } },
      );
    if (
      await releaseJob(models, job._id, this.owner, { countAttempt, ...(countAttempt ? { error: why } : {}) })
    )
      this.emit({ event: 'released', jobId, reason: why });
    else this.emit({ event: 'lost', jobId });
  }

  private async train(
    params: TrainParams,
    signal: AbortSignal,
    hooks: {
      onWorker: (worker: ChildProcess) => void;
      onStep: (p: { step: number; totalSteps: number; epoch: number; loss: number }) => void;
      onCheckpoint: (step: number) => void;
    },
  ): Promise<TrainJobResult> {
    const { store, models } = this.deps;
    const [datasetDir, base] = await Promise.all([
      resolveArtifact(store, params.artifacts.dataset),
      resolveArtifact(store, params.artifacts.base),
    ]);
    const jobDir =
      'key' in params.artifacts.job ? store.workDir(params.artifacts.job.key) : params.artifacts.job.path;
    const publish = (dir: string | null) => {
      const key = dir ? store.keyOf(dir) : null;
      return key === null ? Promise.resolve() : store.publish(key);
    };
    const result = await runQueuedTrainingJob(
      {
        models,
        dataDir: store.workDir('.'),
        backend: this.deps.train.backend,
        ...(this.deps.train.privacyBudget ? { privacyBudget: this.deps.train.privacyBudget } : {}),
      },
      params.trainingJobId,
      { datasetDir, base, jobDir },
      {
        signal,
        onWorker: hooks.onWorker,
        onStep: hooks.onStep,
        onCheckpoint: (step, dir) => {
          hooks.onCheckpoint(step);
          void publish(dir);
        },
      },
    );
    await publish(result.adapterDir);
    await publish(result.modelDir);
    return result;
  }

  private async evaluate(
    params: EvaluateParams,
    signal: AbortSignal,
    onProgress: (line: string) => void,
  ): Promise<{ status: 'succeeded' | 'cancelled'; result: unknown }> {
    if (!this.deps.evaluate) throw new Error('This worker does not run evaluations.');
    // An evaluation keeps no checkpoint: stopped, it is dropped here and starts over elsewhere.
    const stopped = new Promise<{ status: 'cancelled'; result: null }>((resolve) => {
      if (signal.aborted) resolve({ status: 'cancelled', result: null });
      signal.addEventListener('abort', () => resolve({ status: 'cancelled', result: null }), { once: true });
    });
    const work = this.deps
      .evaluate(params, onProgress)
      .then((result) => ({ status: 'succeeded' as const, result }));
    work.catch(() => undefined);
    return Promise.race([work, stopped]);
  }
}
