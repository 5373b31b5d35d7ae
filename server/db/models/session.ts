import { type InferSchemaType, Schema } from 'mongoose';

/**
 * Login sessions. `_id` is a hash of the session id, so a database dump holds no usable cookie.
 * The TTL index expires them on real MongoDB; the store also ignores and prunes expired ones,
 * since the embedded server has no TTL monitor.
 */
export const sessionSchema = new Schema({
  data: { type: Schema.Types.Mixed, required: true },
  expiresAt: { type: Date, required: true },
});

sessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type Session = InferSchemaType<typeof sessionSchema>;
