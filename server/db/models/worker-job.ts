import { type InferSchemaType, Schema } from 'mongoose';

export const WORKER_JOB_KINDS = ['train', 'evaluate'] as const;
export const WORKER_JOB_STATUSES = ['queued', 'leased', 'succeeded', 'failed', 'cancelled'] as const;

/**
 * A job in the queue that `parley worker` processes (and a web server's own worker loop, unless
 * PARLEY_LOCAL_WORKER is off). A worker holds it by its lease, renewed by heartbeats; a job whose
 * lease expired is taken over by the next worker, up to maxAttempts leases in all.
 */
export const workerJobSchema = new Schema(
  {
    kind: { type: String, enum: WORKER_JOB_KINDS, required: true },
    /** train: { trainingJobId, artifacts }; evaluate: the options of `parley eval compare`. */
    params: { type: Schema.Types.Mixed, default: {} },
    /** The training job a train job runs (also in params), so a cancel can find it. */
    trainingJobId: { type: Schema.Types.ObjectId, ref: 'TrainingJob', default: null },
    status: { type: String, enum: WORKER_JOB_STATUSES, default: 'queued' },
    /** Leases taken so far, this one included. */
    attempts: { type: Number, default: 0 },
    maxAttempts: { type: Number, default: 3 },
    lease: {
      owner: { type: String, default: null },
      expiresAt: { type: Date, default: null },
    },
    heartbeatAt: { type: Date, default: null },
    progress: { type: Schema.Types.Mixed, default: null },
    result: { type: Schema.Types.Mixed, default: null },
    error: { type: String, default: null },
    cancelRequested: { type: Boolean, default: false },
    startedAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
  },
  { timestamps: true, minimize: false },
);

workerJobSchema.index({ status: 1, createdAt: 1 });
workerJobSchema.index({ trainingJobId: 1 });

export type WorkerJob = InferSchemaType<typeof workerJobSchema>;
