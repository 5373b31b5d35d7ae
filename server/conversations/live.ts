/**
 * Live conversations (the widget's): one open conversation per visitor and site, messages appended
 * idempotently. Stored in the same collection as ingested logs (channel "widget"), so they become
 * training data once anonymized.
 */
import { ObjectId } from 'mongodb';
import { deterministicId } from '../db/ids.js';
import type { Models } from '../db/models/index.js';
import type { ConversationMode, HandoffReason, WidgetRole } from '../realtime/widget/protocol.js';

export type LiveModels = Pick<Models, 'Conversation'>;

export const WIDGET_CHANNEL = 'widget';

export interface LiveMessage {
  _id: ObjectId;
  role: WidgetRole;
  text: string;
  ts: Date;
  clientMessageId: string | null;
  modelVersion: string | null;
  confidence: number | null;
  authorId: ObjectId | null;
  /** Agent's display name at the time (meta, not trained on). */
  authorName?: string | null;
}

export interface LiveConversation {
  _id: ObjectId;
  siteId: ObjectId;
  customerId: string;
  status: ConversationMode;
  messages: LiveMessage[];
  meta: { handoffReason?: HandoffReason | null; locale?: string; authorNames?: Record<string, string> };
}

/** A visitor's message id derives from the conversation and the widget's id: resends collide. */
export const visitorMessageId = (conversationId: ObjectId, clientMessageId: string) =>
  deterministicId('widget-message', conversationId.toHexString(), clientMessageId);

/** The visitor's open conversation on this site, created on first contact. */
export async function openConversation(
  models: LiveModels,
  visitor: {
    siteId: ObjectId;
    visitorId: string;
    locale: string /** The site's widget source. */;
    sourceId: ObjectId;
  },
): Promise<LiveConversation> {
  const existing = await models.Conversation.findOne({
    siteId: visitor.siteId,
    customerId: visitor.visitorId,
    channel: WIDGET_CHANNEL,
    status: { $ne: 'closed' },
  })
    .sort({ lastMessageAt: -1 })
    .lean();
  if (existing) return existing as unknown as LiveConversation;
  const now = new Date();
  const created = await models.Conversation.create({
    _id: new ObjectId(),
    sourceId: visitor.sourceId,
    siteId: visitor.siteId,
    customerId: visitor.visitorId,
    channel: WIDGET_CHANNEL,
    status: 'bot',
    startedAt: now,
    lastMessageAt: now,
    messages: [],
    meta: { locale: visitor.locale, handoffReason: null },
  });
  return created.toObject() as unknown as LiveConversation;
}

export async function loadConversation(models: LiveModels, id: ObjectId): Promise<LiveConversation | null> {
  return (await models.Conversation.findById(id).lean()) as unknown as LiveConversation | null;
}

export interface AppendResult {
  message: LiveMessage;
  /** The message was stored before (same id): nothing changed. */
  duplicate: boolean;
}

/**
 * Appends a message unless one with its `_id` is there already. Atomic on one document, so two
 * processes resending the same message store it once.
 */
export async function appendMessage(
  models: LiveModels,
  conversationId: ObjectId,
  message: LiveMessage,
): Promise<AppendResult | null> {
  const result = await models.Conversation.updateOne(
    { _id: conversationId, 'messages._id': { $ne: message._id } },
    { $push: { messages: message }, $set: { lastMessageAt: message.ts } },
  );
  if (result.modifiedCount === 1) return { message, duplicate: false };
  const stored = await models.Conversation.findOne({ _id: conversationId }, { messages: 1 }).lean();
  if (!stored) return null;
  const previous = (stored.messages as LiveMessage[]).find((m) => m._id.equals(message._id));
  return previous ? { message: previous, duplicate: true } : null;
}

/** Sets the conversation's mode (and why); returns false when it does not exist. */
export async function setMode(
  models: LiveModels,
  conversationId: ObjectId,
  mode: ConversationMode,
  reason: HandoffReason | null,
): Promise<boolean> {
  const result = await models.Conversation.updateOne(
    { _id: conversationId },
    { $set: { status: mode, 'meta.handoffReason': reason } },
  );
  return result.matchedCount === 1;
}
