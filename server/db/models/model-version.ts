import { type InferSchemaType, Schema } from 'mongoose';

export const VERSION_STATUSES = ['candidate', 'active', 'retired', 'failed'] as const;
/** The privacy unit of a DP run: one example, or all of one customer's examples. */
export const PRIVACY_UNITS = ['example', 'customer'] as const;

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
    /** The DP mechanism and its (ε, δ); all null for a run without DP. See server/privacy/dp/. */
    privacy: {
      epsilon: { type: Number, default: null },
      delta: { type: Number, default: null },
      accountant: { type: String, default: null },
      noiseMultiplier: { type: Number, default: null },
      sampleRate: { type: Number, default: null },
      steps: { type: Number, default: null },
      clipNorm: { type: Number, default: null },
      unit: { type: String, enum: PRIVACY_UNITS, default: null },
    },
    metrics: { type: Schema.Types.Mixed, default: {} },
    /** The latest comparison report against the active version (server/evaluate/compare.ts). */
    comparison: { type: Schema.Types.Mixed, default: null },
    promotedAt: { type: Date, default: null },
    promotedBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  },
  { timestamps: true, minimize: false },
);

modelVersionSchema.index({ status: 1, promotedAt: -1 });
/** The privacy ledger finds every version trained on a set of datasets. */
modelVersionSchema.index({ datasetId: 1 });

export type ModelVersion = InferSchemaType<typeof modelVersionSchema>;
