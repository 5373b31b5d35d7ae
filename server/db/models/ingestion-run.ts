import { type InferSchemaType, Schema } from 'mongoose';

export const RUN_STATUSES = ['running', 'succeeded', 'failed'] as const;

export const ingestionRunSchema = new Schema(
  {
    sourceId: { type: Schema.Types.ObjectId, ref: 'Source', required: true },
    full: { type: Boolean, default: false },
    status: { type: String, enum: RUN_STATUSES, default: 'running' },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    counts: {
      read: { type: Number, default: 0 },
      conversations: { type: Number, default: 0 },
      messages: { type: Number, default: 0 },
      quarantined: { type: Number, default: 0 },
    },
    watermarkBefore: { type: Schema.Types.Mixed, default: null },
    watermarkAfter: { type: Schema.Types.Mixed, default: null },
    error: { type: String, default: null },
  },
  { timestamps: true },
);

ingestionRunSchema.index({ sourceId: 1, startedAt: -1 });

export type IngestionRun = InferSchemaType<typeof ingestionRunSchema>;
