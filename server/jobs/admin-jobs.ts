/**
 * Long work an admin starts from the console, run off the request path: an ingestion (anonymized
 * on a worker thread) and a dataset build in this process; a training run through the job queue,
 * run by this server's own worker loop (PARLEY_LOCAL_WORKER, in a child process like `parley
 * train`) or by a `parley worker` elsewhere. The request answers at once with the id; progress
 * and the end arrive as events, which the `/agent` namespace relays to admins.
 */
import { EventEmitter } from 'node:events';
import { ObjectId } from 'mongodb';
import type { Connection } from 'mongoose';
import { openArtifactStore } from '../artifacts/store.js';
import { buildDataset } from '../datasets/build.js';
import type { Models } from '../db/models/index.js';
import type { Env } from '../env.js';
import { conflict } from '../errors.js';
import type { IngestProgress } from '../ingest/progress.js';
import { type IngestSummary, runIngestion } from '../ingest/run.js';
import { workerAnonymizer } from '../ingest/worker-anonymizer.js';
import type { Logger } from '../logger.js';
import { readModelConfig } from '../ml/config.js';
import { ChatTokenizer } from '../ml/tokenizer.js';
import { privacyBudgetFromEnv } from '../privacy/dp/ledger.js';
import { loadPiiKey } from '../privacy/pii/key.js';
import { type TrainJobOptions, type TrainJobResult, trainingJobEvents } from '../train/job.js';
import { JobWorker } from './job-worker.js';
import { enqueueTraining } from './training-queue.js';
import { TrainingWatcher } from './training-watcher.js';

export interface AdminJobEventMap {
  'ingest:progress': [{ source: string; progress: IngestProgress }];
  'ingest:done': [{ source: string; summary: IngestSummary | null; error: string | null }];
  'dataset:done': [{ datasetId: string | null; name: string | null; status: string; error: string | null }];
  'training:started': [{ jobId: string }];
  'training:done': [
    {
      jobId: string | null;
      result: TrainJobResult | null;
      error: string | null;
      /** How it ended when there is no result (cancelled while queued, failed). */
      status?: 'succeeded' | 'cancelled' | 'failed';
    },
  ];
}

export class AdminJobEvents extends EventEmitter<AdminJobEventMap> {}

export interface AdminJobsDeps {
  models: Models;
  connection: Connection;
  env: Pick<
    Env,
    | 'PARLEY_DATA_DIR'
    | 'PARLEY_BASE_MODEL'
    | 'PARLEY_SYSTEM_PROMPT'
    | 'PARLEY_PRIVACY_BUDGET_EPSILON'
    | 'TFJS_BACKEND'
    | 'PARLEY_ARTIFACT_STORE'
    | 'PARLEY_LOCAL_WORKER'
    | 'PARLEY_WORKER_LEASE_MS'
    | 'PARLEY_WORKER_MAX_ATTEMPTS'
    | 'PARLEY_JOB_POLL_MS'
  >;
  logger: Logger;
}

export interface DatasetRequest {
  sources: string[];
  since?: Date;
  until?: Date;
  validationPercent: number;
}

export class AdminJobs {
  readonly events = new AdminJobEvents();
  private readonly running = new Set<Promise<unknown>>();
  private readonly ingesting = new Set<string>();
  private readonly store;
  /** This server's own worker loop (training jobs only), unless PARLEY_LOCAL_WORKER is off. */
  readonly worker: JobWorker | null;
  private readonly watcher: TrainingWatcher;

  constructor(private readonly deps: AdminJobsDeps) {
    const { env, models } = deps;
    this.store = openArtifactStore(env.PARLEY_ARTIFACT_STORE);
    this.worker = env.PARLEY_LOCAL_WORKER
      ? new JobWorker({
          models,
          store: this.store,
          leaseMs: env.PARLEY_WORKER_LEASE_MS,
          pollMs: env.PARLEY_JOB_POLL_MS,
          // Evaluation runs on the worker's own thread: never on a web server's event loop.
          kinds: ['train'],
          train: { privacyBudget: privacyBudgetFromEnv(env), backend: env.TFJS_BACKEND },
          onEvent: (event) => {
            if (event.event === 'lost' || event.event === 'released')
              deps.logger.warn({ job: event.jobId, event: event.event }, 'training job left this server');
          },
        })
      : null;
    this.watcher = new TrainingWatcher({
      models,
      pollMs: env.PARLEY_JOB_POLL_MS,
      runsHere: (id) => this.worker?.trainingJobIds.has(id) ?? false,
      onProgress: (id, progress) => trainingJobEvents.emit('progress', id, progress),
      onEvent: (id, event) => trainingJobEvents.emit('event', id, event),
      onDone: ({ jobId, status, result, error }) =>
        this.events.emit('training:done', { jobId, result, error, status }),
    });
  }

  /** Starts the local worker loop (if any) and the relay of queued jobs' progress. */
  start(): void {
    void this.worker?.start();
    this.watcher.start();
  }

  private track<T>(work: Promise<T>): void {
    const tracked = work.catch(() => undefined).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** Starts an ingestion of the source; the run's own lease also keeps other processes out. */
  startIngestion(source: string): void {
    if (this.ingesting.has(source))
      throw conflict(`"${source}" is being ingested already.`, 'ingest_running');
    this.ingesting.add(source);
    const work = (async () => {
      const hashKey = await loadPiiKey(this.deps.env.PARLEY_DATA_DIR);
      const anonymizer = await workerAnonymizer({ hashKey });
      try {
        return await runIngestion(
          {
            models: this.deps.models,
            connection: this.deps.connection,
            anonymizer,
            hashKey,
            logger: this.deps.logger,
          },
          source,
          { onProgress: (progress) => this.events.emit('ingest:progress', { source, progress }) },
        );
      } finally {
        await anonymizer.close();
      }
    })();
    work.then(
      (summary) => this.events.emit('ingest:done', { source, summary, error: null }),
      (error: unknown) =>
        this.events.emit('ingest:done', { source, summary: null, error: (error as Error).message }),
    );
    this.track(work.finally(() => this.ingesting.delete(source)));
  }

  /** Builds a dataset for the base model from the sources' anonymized conversations. */
  startDatasetBuild(request: DatasetRequest): void {
    const { env } = this.deps;
    const work = (async () => {
      const base = env.PARLEY_BASE_MODEL;
      const [tokenizer, config] = await Promise.all([ChatTokenizer.load(base), readModelConfig(base)]);
      return buildDataset(
        { models: this.deps.models, dataDir: env.PARLEY_DATA_DIR },
        {
          sources: request.sources,
          ...(request.since ? { since: request.since } : {}),
          ...(request.until ? { until: request.until } : {}),
        },
        {
          tokenizer,
          baseModel: base,
          contextLength: config.contextLength,
          systemPrompt: env.PARLEY_SYSTEM_PROMPT,
          validationPercent: request.validationPercent,
        },
      );
    })();
    work.then(
      (dataset) =>
        this.events.emit('dataset:done', {
          datasetId: dataset._id.toHexString(),
          name: dataset.name,
          status: dataset.status,
          error: dataset.error ?? null,
        }),
      (error: unknown) =>
        this.events.emit('dataset:done', {
          datasetId: null,
          name: null,
          status: 'failed',
          error: (error as Error).message,
        }),
    );
    this.track(work);
  }

  /** Queues a training run; resolves with its job id once it is queued. */
  async startTraining(options: TrainJobOptions): Promise<string> {
    const { env, models } = this.deps;
    const { jobId, queueJobId } = await enqueueTraining(
      {
        models,
        dataDir: env.PARLEY_DATA_DIR,
        privacyBudget: privacyBudgetFromEnv(env),
        backend: env.TFJS_BACKEND,
        store: this.store,
        maxAttempts: env.PARLEY_WORKER_MAX_ATTEMPTS,
      },
      options,
    );
    this.watcher.watch(queueJobId, new ObjectId(jobId));
    this.events.emit('training:started', { jobId });
    this.worker?.poke();
    return jobId;
  }

  /** Waits for everything started here (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * Server shutdown: a training run here stops at its next step with a checkpoint and goes back
   * to the queue, for the next worker to resume; the rest finishes.
   */
  async close(): Promise<void> {
    await this.worker?.stop();
    await this.watcher.stop();
    await this.idle();
  }
}
