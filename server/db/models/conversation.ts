import { type InferSchemaType, Schema } from 'mongoose';

export const MESSAGE_ROLES = ['customer', 'agent', 'bot'] as const;
export const CONVERSATION_STATUSES = ['bot', 'waiting', 'human', 'closed'] as const;
export const RATING_VALUES = ['up', 'down', 'corrected'] as const;

/** An agent's verdict on one bot reply; corrected replies train on `correction` instead. */
const ratingSchema = new Schema(
  {
    value: { type: String, enum: RATING_VALUES, required: true },
    correction: { type: String, default: null },
    /** Why a reply was rated down or corrected (server/realtime/agent/protocol.ts RATING_REASONS). */
    reasons: { type: [String], default: [] },
    by: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    byName: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { _id: false },
);

const messageSchema = new Schema({
  // Deterministic (source + source message id) for ingested messages; idempotent re-ingest.
  _id: { type: Schema.Types.ObjectId, required: true },
  role: { type: String, enum: MESSAGE_ROLES, required: true },
  text: { type: String, required: true },
  ts: { type: Date, required: true },
  sourceMessageId: { type: String, default: null },
  /** Widget-side id: a resent message with the same id is not stored twice. */
  clientMessageId: { type: String, default: null },
  /** Registry version that wrote a bot reply. */
  modelVersion: { type: String, default: null },
  /** The model's confidence in a live bot reply, exp(mean token log-probability) in [0, 1]. */
  confidence: { type: Number, default: null },
  authorId: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  /** An agent's display name as the visitor saw it. */
  authorName: { type: String, default: null },
  rating: { type: ratingSchema, default: null },
});

export const conversationSchema = new Schema(
  {
    sourceId: { type: Schema.Types.ObjectId, ref: 'Source', default: null },
    sourceConversationId: { type: String, default: null },
    siteId: { type: Schema.Types.ObjectId, default: null },
    channel: { type: String, default: 'chat' },
    customerId: { type: String, default: null },
    status: { type: String, enum: CONVERSATION_STATUSES, default: 'closed' },
    startedAt: { type: Date, required: true },
    lastMessageAt: { type: Date, required: true },
    messages: { type: [messageSchema], default: [] },
    /** Set once the anonymizer has rewritten the texts; only anonymized conversations train. */
    anonymizedAt: { type: Date, default: null },
    /** A customer's deletion request: kept out of every dataset from then on. */
    deletedAt: { type: Date, default: null },
    meta: { type: Schema.Types.Mixed, default: {} },
    /** Pseudonym assignments (keyed hashes, never values), so later messages reuse <PERSON_1>. */
    pii: {
      state: { type: Schema.Types.Mixed, default: null },
    },
  },
  { timestamps: true, minimize: false },
);

conversationSchema.index({ sourceId: 1, sourceConversationId: 1 });
conversationSchema.index({ sourceId: 1, startedAt: 1 });
conversationSchema.index({ status: 1, lastMessageAt: -1 });
conversationSchema.index({ lastMessageAt: -1 });
conversationSchema.index({ siteId: 1, customerId: 1, lastMessageAt: -1 });
conversationSchema.index({ 'messages.rating.value': 1 }, { sparse: true });

export type Conversation = InferSchemaType<typeof conversationSchema>;
export type Message = InferSchemaType<typeof messageSchema>;
