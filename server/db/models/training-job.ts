import { type InferSchemaType, Schema } from 'mongoose';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export const JOB_EVENT_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One training step as the job records it (validation loss only on evaluation steps). */
const stepMetricsSchema = new Schema(
  {
    step: { type: Number, required: true },
    epoch: { type: Number, required: true },
    loss: { type: Number, default: null },
    validationLoss: { type: Number, default: null },
    learningRate: { type: Number, default: null },
    tokensPerSecond: { type: Number, default: null },
    etaSeconds: { type: Number, default: null },
    epsilon: { type: Number, default: null },
  },
  { _id: false },
);

const jobEventSchema = new Schema(
  {
    level: { type: String, enum: JOB_EVENT_LEVELS, required: true },
    message: { type: String, required: true },
    time: { type: Date, required: true },
  },
  { _id: false },
);

export const trainingJobSchema = new Schema(
  {
    datasetId: { type: Schema.Types.ObjectId, ref: 'Dataset', required: true },
    baseModel: { type: String, required: true },
    mode: { type: String, enum: ['lora', 'full'], default: 'lora' },
    hyperparameters: { type: Schema.Types.Mixed, default: {} },
    privacy: {
      enabled: { type: Boolean, default: false },
      targetEpsilon: { type: Number, default: null },
      delta: { type: Number, default: null },
      noiseMultiplier: { type: Number, default: null },
      epsilonSpent: { type: Number, default: null },
      accountant: { type: String, default: null },
      /** The DP plan the worker follows, so a resumed run uses the same one. */
      sampleRate: { type: Number, default: null },
      plannedSteps: { type: Number, default: null },
      clipNorm: { type: Number, default: null },
      /** The privacy unit: example, or customer (all of a customer's examples together). */
      unit: { type: String, enum: ['example', 'customer'], default: null },
    },
    status: { type: String, enum: JOB_STATUSES, default: 'queued' },
    progress: {
      step: { type: Number, default: 0 },
      totalSteps: { type: Number, default: 0 },
      epoch: { type: Number, default: 0 },
      trainLoss: { type: Number, default: null },
      validationLoss: { type: Number, default: null },
      tokensPerSecond: { type: Number, default: null },
      learningRate: { type: Number, default: null },
      etaSeconds: { type: Number, default: null },
      epsilonSpent: { type: Number, default: null },
    },
    /** Per step, in order; a resume drops the steps after the checkpoint it starts from. */
    metrics: { type: [stepMetricsSchema], default: [] },
    events: { type: [jobEventSchema], default: [] },
    /** The job's working directory: checkpoints, the adapter, the staged model. */
    jobDir: { type: String, default: null },
    /** The newest checkpoint written. */
    checkpointPath: { type: String, default: null },
    /** Set by cancelTrainingJob; the process running the job stops it at the next step. */
    cancelRequested: { type: Boolean, default: false },
    outputModelVersionId: { type: Schema.Types.ObjectId, ref: 'ModelVersion', default: null },
    /** Lease held by the worker running it, so a crashed worker's job can be resumed. */
    lease: {
      owner: { type: String, default: null },
      expiresAt: { type: Date, default: null },
    },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    startedAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
    error: { type: String, default: null },
  },
  { timestamps: true, minimize: false },
);

trainingJobSchema.index({ status: 1, createdAt: 1 });

export type TrainingJob = InferSchemaType<typeof trainingJobSchema>;
