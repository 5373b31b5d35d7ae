import { type InferSchemaType, Schema } from 'mongoose';

export const VERSION_STATUSES = ['candidate', 'active', 'retired', 'failed'] as const;

/** A registered model: files on disk in the Hugging Face layout, lineage and metrics here. */
export const modelVersionSchema = new Schema(
  {
    /** Human-facing version label, e.g. "v3". `_id` derives from it. */
    version: { type: String, required: true },
    status: { type: String, enum: VERSION_STATUSES, default: 'candidate' },
    artifactPath: { type: String, required: true },
    baseModel: { type: String, required: true },
    architecture: { type: String, default: null },
    datasetId: { type: Schema.Types.ObjectId, ref: 'Dataset', default: null },
    trainingJobId: { type: Schema.Types.ObjectId, ref: 'TrainingJob', default: null },
    parentVersionId: { type: Schema.Types.ObjectId, ref: 'ModelVersion', default: null },
    hyperparameters: { type: Schema.Types.Mixed, default: {} },
    privacy: {
      epsilon: { type: Number, default: null },
      delta: { type: Number, default: null },
    },
    metrics: { type: Schema.Types.Mixed, default: {} },
    promotedAt: { type: Date, default: null },
    promotedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  },
  { timestamps: true, minimize: false },
);

modelVersionSchema.index({ status: 1, promotedAt: -1 });

export type ModelVersion = InferSchemaType<typeof modelVersionSchema>;
