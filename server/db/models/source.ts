import { type InferSchemaType, Schema } from 'mongoose';

/** A company's MongoDB of support logs. `_id` derives from the name, so names are unique. */
export const sourceSchema = new Schema(
  {
    name: { type: String, required: true },
    /** Secret: never logged, never returned by the API (excluded from queries by default). */
    uri: { type: String, required: true, select: false },
    database: { type: String, required: true },
    collectionName: { type: String, required: true },
    /** Field mapping from the source's shape to Parley's (validated by the ingest module). */
    mapping: { type: Schema.Types.Mixed, required: true },
    /** Where the last incremental run stopped: timestamp, then source `_id` as a tie-break. */
    watermark: {
      ts: { type: Date, default: null },
      id: { type: Schema.Types.Mixed, default: null },
    },
  },
  { timestamps: true, minimize: false },
);

export type Source = InferSchemaType<typeof sourceSchema>;
