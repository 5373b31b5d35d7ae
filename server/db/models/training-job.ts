import { type InferSchemaType, Schema } from 'mongoose';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

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
    },
    status: { type: String, enum: JOB_STATUSES, default: 'queued' },
    progress: {
      step: { type: Number, default: 0 },
      totalSteps: { type: Number, default: 0 },
      epoch: { type: Number, default: 0 },
      trainLoss: { type: Number, default: null },
      validationLoss: { type: Number, default: null },
      tokensPerSecond: { type: Number, default: null },
    },
    checkpointPath: { type: String, default: null },
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
