import { type InferSchemaType, Schema } from 'mongoose';

export const CONTACT_KINDS = ['identify', 'leave-email'] as const;

/**
 * What a visitor told us about themselves (Parley.identify, or an email left while no agent was
 * online). Personal data: kept in its own collection, away from conversation text, and never
 * read by dataset building.
 */
export const visitorContactSchema = new Schema(
  {
    siteId: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    visitorId: { type: String, required: true },
    conversationId: { type: Schema.Types.ObjectId, ref: 'Conversation', default: null },
    kind: { type: String, enum: CONTACT_KINDS, required: true },
    name: { type: String, default: null },
    email: { type: String, default: null },
    /** Set once someone answered a left email. */
    handledAt: { type: Date, default: null },
  },
  { timestamps: true },
);

visitorContactSchema.index({ siteId: 1, visitorId: 1 });
visitorContactSchema.index({ kind: 1, handledAt: 1, createdAt: -1 });

export type VisitorContact = InferSchemaType<typeof visitorContactSchema>;
