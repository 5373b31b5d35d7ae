/**
 * Long work an admin starts from the console, run off the request path in this process: an
 * ingestion (anonymized on a worker thread), a dataset build, a training run (in its own child
 * process, like `parley train`). The request answers at once with the id; progress and the end
 * arrive as events, which the `/agent` namespace relays to admins.
 */
import { EventEmitter } from 'node:events';
import type { Connection } from 'mongoose';
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
import { runTrainingJob, type TrainJobOptions, type TrainJobResult } from '../train/job.js';

export interface AdminJobEventMap {
  'ingest:progress': [{ source: string; progress: IngestProgress }];
  'ingest:done': [{ source: string; summary: IngestSummary | null; error: string | null }];
  'dataset:done': [{ datasetId: string | null; name: string | null; status: string; error: string | null }];
  'training:started': [{ jobId: string }];
  'training:done': [{ jobId: string | null; result: TrainJobResult | null; error: string | null }];
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
  /** Stops the training runs started here (they checkpoint first, and can be resumed). */
  private readonly stopTraining = new AbortController();

  constructor(private readonly deps: AdminJobsDeps) {}

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

  /** Starts a training run in a child process; resolves with its job id once the job exists. */
  startTraining(options: TrainJobOptions): Promise<string> {
    const { env } = this.deps;
    return new Promise<string>((resolve, reject) => {
      let started = false;
      const work = runTrainingJob(
        {
          models: this.deps.models,
          dataDir: env.PARLEY_DATA_DIR,
          privacyBudget: privacyBudgetFromEnv(env),
          backend: env.TFJS_BACKEND,
        },
        options,
        {
          signal: this.stopTraining.signal,
          onWorker: (_worker, jobId) => {
            started = true;
            this.events.emit('training:started', { jobId });
            resolve(jobId);
          },
        },
      );
      work.then(
        (result) => this.events.emit('training:done', { jobId: result.jobId, result, error: null }),
        (error: unknown) => {
          if (!started) reject(error);
          this.events.emit('training:done', { jobId: null, result: null, error: (error as Error).message });
        },
      );
      this.track(work);
    });
  }

  /** Waits for everything started here (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Server shutdown: training runs stop at their next step with a checkpoint; the rest finishes. */
  async close(): Promise<void> {
    this.stopTraining.abort();
    await this.idle();
  }
}
