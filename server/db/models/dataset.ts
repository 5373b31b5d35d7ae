import { type InferSchemaType, Schema } from 'mongoose';

/** An immutable training snapshot built from anonymized conversations (the lineage of a model). */
export const datasetSchema = new Schema(
  {
    name: { type: String, required: true },
    status: { type: String, enum: ['building', 'ready', 'failed'], default: 'building' },
    sourceIds: { type: [Schema.Types.ObjectId], default: [] },
    filters: {
      since: { type: Date, default: null },
      until: { type: Date, default: null },
      channel: { type: String, default: null },
      minAgentTurns: { type: Number, default: 1 },
    },
    /** How examples were rendered: the base model's chat template, context length and system prompt. */
    render: {
      baseModel: { type: String, default: null },
      contextLength: { type: Number, default: null },
      systemPrompt: { type: String, default: null },
      validationPercent: { type: Number, default: 10 },
    },
    stats: {
      conversations: { type: Number, default: 0 },
      examples: { type: Number, default: 0 },
      tokens: { type: Number, default: 0 },
      /** Tokens the loss counts (agent replies, approved or corrected bot replies). */
      targetTokens: { type: Number, default: 0 },
      trainConversations: { type: Number, default: 0 },
      validationConversations: { type: Number, default: 0 },
      trainExamples: { type: Number, default: 0 },
      validationExamples: { type: Number, default: 0 },
      truncatedExamples: { type: Number, default: 0 },
    },
    piiReport: { type: Schema.Types.Mixed, default: {} },
    sourceWatermarks: { type: Schema.Types.Mixed, default: {} },
    /** Examples live on disk under PARLEY_DATA_DIR, not in the database. */
    artifactPath: { type: String, default: null },
    createdBy: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    error: { type: String, default: null },
  },
  { timestamps: true, minimize: false },
);

datasetSchema.index({ createdAt: -1 });

export type Dataset = InferSchemaType<typeof datasetSchema>;
