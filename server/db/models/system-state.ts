import { type InferSchemaType, Schema } from 'mongoose';

/**
 * Small keyed documents (`_id` derives from the key): what was seeded, and version counters that
 * processes poll to notice changes, since the embedded server has no change streams.
 */
export const systemStateSchema = new Schema(
  {
    key: { type: String, required: true },
    value: { type: Schema.Types.Mixed, default: {} },
  },
  { timestamps: true, minimize: false },
);

export type SystemState = InferSchemaType<typeof systemStateSchema>;
