import { type InferSchemaType, Schema } from 'mongoose';

/**
 * A source document (or one message inside it) that ingestion could not read, with the reason in
 * words. `_id` derives from source, document id and path, so re-runs do not pile up duplicates.
 * No source text is kept: the reason names fields, never their contents.
 */
export const quarantinedDocumentSchema = new Schema(
  {
    sourceId: { type: Schema.Types.ObjectId, ref: 'Source', required: true },
    runId: { type: Schema.Types.ObjectId, ref: 'IngestionRun', required: true },
    sourceDocumentId: { type: Schema.Types.Mixed, required: true },
    path: { type: String, default: null },
    reason: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { minimize: false },
);

quarantinedDocumentSchema.index({ sourceId: 1, at: -1 });
quarantinedDocumentSchema.index({ runId: 1 });

export type QuarantinedDocument = InferSchemaType<typeof quarantinedDocumentSchema>;
