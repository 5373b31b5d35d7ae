import { type InferSchemaType, Schema } from 'mongoose';

/** widget: a site's own live chats (server/ingest/live-conversations.ts). */
export const SOURCE_KINDS = ['mongodb', 'file', 'widget'] as const;

/** Where a company's support logs come from. `_id` derives from the name, so names are unique. */
export const sourceSchema = new Schema(
  {
    name: { type: String, required: true },
    kind: { type: String, enum: SOURCE_KINDS, default: 'mongodb' },
    /**
     * Secret: never logged, never returned by the API (excluded from queries unless asked for).
     * A MongoDB connection string, "self" for Parley's own server, or a file path for kind "file".
     */
    uri: { type: String, required: true, select: false },
    database: { type: String, default: null },
    collectionName: { type: String, default: null },
    /** Field mapping from the source's shape to Parley's (validated by server/ingest/mapping.ts). */
    mapping: { type: Schema.Types.Mixed, required: true },
    /** Where the last committed batch ended: the source's own timestamp value, then its `_id`. */
    watermark: {
      ts: { type: Schema.Types.Mixed, default: null },
      id: { type: Schema.Types.Mixed, default: null },
    },
    /** One ingestion at a time per source; a crashed run's lease expires. */
    lease: {
      runId: { type: Schema.Types.ObjectId, default: null },
      /** "host:pid" of the process running it, so a killed run's lease can be taken over at once. */
      owner: { type: String, default: null },
      expiresAt: { type: Date, default: null },
    },
  },
  { timestamps: true, minimize: false },
);

export type Source = InferSchemaType<typeof sourceSchema>;
