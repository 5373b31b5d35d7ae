import { type InferSchemaType, Schema } from 'mongoose';

export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;

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
    /** Counts per entity type and per operator; never the values. */
    pii: {
      entities: { type: Schema.Types.Mixed, default: {} },
      operators: { type: Schema.Types.Mixed, default: {} },
    },
    watermarkBefore: { type: Schema.Types.Mixed, default: null },
    watermarkAfter: { type: Schema.Types.Mixed, default: null },
    error: { type: String, default: null },
  },
  { timestamps: true, minimize: false },
);

ingestionRunSchema.index({ sourceId: 1, startedAt: -1 });

export type IngestionRun = InferSchemaType<typeof ingestionRunSchema>;
