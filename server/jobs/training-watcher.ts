/**
 * Relays the progress of queued training jobs that another process runs (a `parley worker` on a
 * GPU box, another web server's loop) to this server's console: it polls the job documents and
 * emits the same progress and log events an in-process run emits, and the end of every queued
 * training job, wherever it ran. MongoDB change streams would do without polling, but the
 * embedded server has none.
 */
import type { ObjectId } from 'mongodb';
import type { Models } from '../db/models/index.js';
import type { JobEvent, ProgressEvent, TrainJobResult } from '../train/job.js';

export interface TrainingDone {
  jobId: string;
  status: 'succeeded' | 'cancelled' | 'failed';
  result: TrainJobResult | null;
  error: string | null;
}

export interface TrainingWatcherDeps {
  models: Pick<Models, 'WorkerJob' | 'TrainingJob'>;
  pollMs: number;
  /** Jobs run in this process, whose progress is emitted live already. */
  runsHere: (trainingJobId: string) => boolean;
  onProgress: (trainingJobId: string, progress: ProgressEvent) => void;
  onEvent: (trainingJobId: string, event: JobEvent) => void;
  onDone: (done: TrainingDone) => void;
}

interface Watched {
  trainingJobId: ObjectId;
  /** Progress and log entries already relayed; null until the first read (then: what is there). */
  lastStep: number | null;
  events: number | null;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export class TrainingWatcher {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  constructor(private readonly deps: TrainingWatcherDeps) {}

  /** Watches a job queued here from its first step (jobs found by polling start from where they are). */
  watch(queueJobId: ObjectId, trainingJobId: ObjectId): void {
    this.watched.set(queueJobId.toHexString(), { trainingJobId, lastStep: 0, events: 0 });
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.ticking ??= this.tick()
        .catch(() => undefined)
        .finally(() => {
          this.ticking = null;
        });
    }, this.deps.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
  }

  async tick(): Promise<void> {
    const { models } = this.deps;
    const active = await models.WorkerJob.find(
      { kind: 'train', status: { $in: ['queued', 'leased'] } },
      { trainingJobId: 1 },
    ).lean();
    for (const job of active) {
      const id = job._id.toHexString();
      if (!this.watched.has(id) && job.trainingJobId)
        this.watched.set(id, { trainingJobId: job.trainingJobId, lastStep: null, events: null });
    }
    for (const [id, watched] of this.watched) {
      const job = await models.WorkerJob.findById(id, { status: 1, result: 1, error: 1 }).lean();
      if (!job) {
        this.watched.delete(id);
        continue;
      }
      const trainingJobId = watched.trainingJobId.toHexString();
      if (!this.deps.runsHere(trainingJobId)) await this.relay(watched);
      if (TERMINAL.has(job.status)) {
        this.watched.delete(id);
        const result = (job.result ?? null) as TrainJobResult | null;
        this.deps.onDone({
          jobId: trainingJobId,
          status: job.status as TrainingDone['status'],
          result,
          error: job.error ?? null,
        });
      }
    }
  }

  private async relay(watched: Watched): Promise<void> {
    const training = await this.deps.models.TrainingJob.findById(watched.trainingJobId, {
      metrics: 1,
      events: 1,
      'progress.totalSteps': 1,
    }).lean();
    if (!training) return;
    const id = watched.trainingJobId.toHexString();
    if (watched.lastStep === null || watched.events === null) {
      watched.lastStep = training.metrics.at(-1)?.step ?? 0;
      watched.events = training.events.length;
      return;
    }
    for (const m of training.metrics) {
      if (m.step <= watched.lastStep) continue;
      watched.lastStep = m.step;
      this.deps.onProgress(id, {
        step: m.step,
        totalSteps: training.progress?.totalSteps ?? 0,
        epoch: m.epoch,
        loss: m.loss ?? Number.NaN,
        validationLoss: m.validationLoss ?? null,
        learningRate: m.learningRate ?? 0,
        tokensPerSecond: m.tokensPerSecond ?? 0,
        etaSeconds: m.etaSeconds ?? 0,
        epsilon: m.epsilon ?? null,
      });
    }
    for (const event of training.events.slice(watched.events)) {
      this.deps.onEvent(id, {
        level: event.level as JobEvent['level'],
        message: event.message,
        time: event.time,
      });
    }
    watched.events = training.events.length;
  }
}
