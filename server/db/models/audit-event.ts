import { type InferSchemaType, Schema } from 'mongoose';

/** Who did what and when: logins, source changes, builds, trainings, promotions, rollbacks. */
export const auditEventSchema = new Schema({
  at: { type: Date, required: true },
  action: { type: String, required: true },
  actor: {
    userId: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    email: { type: String, default: null },
    /** 'user', 'cli' or 'system'. */
    kind: { type: String, default: 'user' },
  },
  target: {
    type: { type: String, default: null },
    id: { type: String, default: null },
  },
  details: { type: Schema.Types.Mixed, default: {} },
});

auditEventSchema.index({ at: -1 });
auditEventSchema.index({ action: 1, at: -1 });

export type AuditEvent = InferSchemaType<typeof auditEventSchema>;
