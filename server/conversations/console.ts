/** Live conversations as the console shows them: the inbox list, one conversation, the review queue. */
import { ObjectId } from 'mongodb';
import type { Models } from '../db/models/index.js';
import { badRequest, notFound } from '../errors.js';
import type {
  ConsoleMessage,
  ConversationDetail,
  ConversationSummary,
  RateRequest,
  RatingReason,
  ReviewItem,
  StaffUser,
} from '../realtime/agent/protocol.js';
import type { ConversationMode } from '../realtime/widget/protocol.js';
import { type LiveConversation, type LiveMessage, WIDGET_CHANNEL } from './live.js';

export type ConsoleModels = Pick<Models, 'Conversation' | 'Site' | 'VisitorContact'>;

interface StoredRating {
  value: 'up' | 'down' | 'corrected';
  correction?: string | null;
  reasons?: string[];
  by: ObjectId;
  byName?: string | null;
  at: Date;
}

type StoredMessage = LiveMessage & { rating?: StoredRating | null };
type StoredConversation = Omit<LiveConversation, 'messages'> & {
  messages: StoredMessage[];
  channel: string;
  startedAt: Date;
  lastMessageAt: Date;
};

/** The inbox order: who needs a person first. */
const MODE_ORDER: readonly ConversationMode[] = ['waiting', 'human', 'bot', 'closed'];
const PREVIEW_CHARS = 140;

export function presentConsoleMessage(message: StoredMessage): ConsoleMessage {
  const rating = message.rating;
  return {
    id: message._id.toHexString(),
    role: message.role,
    text: message.text,
    ts: message.ts.toISOString(),
    modelVersion: message.modelVersion ?? null,
    confidence: message.confidence ?? null,
    authorName: message.authorName ?? null,
    rating: rating
      ? {
          value: rating.value,
          reasons: (rating.reasons ?? []) as RatingReason[],
          correction: rating.correction ?? null,
          by: { id: rating.by.toHexString(), name: rating.byName ?? '' },
          at: rating.at.toISOString(),
        }
      : null,
  };
}

function summarize(conversation: StoredConversation, siteName: string | null): ConversationSummary {
  const last = conversation.messages.at(-1);
  return {
    id: conversation._id.toHexString(),
    site: siteName,
    channel: conversation.channel,
    mode: conversation.status,
    handoffReason: conversation.meta?.handoffReason ?? null,
    startedAt: conversation.startedAt.toISOString(),
    lastMessageAt: conversation.lastMessageAt.toISOString(),
    preview: last ? last.text.slice(0, PREVIEW_CHARS) : '',
    messageCount: conversation.messages.length,
    unratedBotReplies: conversation.messages.filter((m) => m.role === 'bot' && !m.rating).length,
  };
}

async function siteNames(
  models: ConsoleModels,
  ids: (ObjectId | null | undefined)[],
): Promise<Map<string, string>> {
  const unique = [...new Set(ids.filter((id): id is ObjectId => id != null).map((id) => id.toHexString()))];
  if (unique.length === 0) return new Map();
  const sites = await models.Site.find(
    { _id: { $in: unique.map((id) => new ObjectId(id)) } },
    { name: 1 },
  ).lean();
  return new Map(sites.map((site) => [site._id.toHexString(), site.name]));
}

export async function summarizeOne(models: ConsoleModels, conversation: StoredConversation) {
  const names = await siteNames(models, [conversation.siteId]);
  return summarize(conversation, names.get(conversation.siteId?.toHexString() ?? '') ?? null);
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface ListOptions {
  mode?: ConversationMode;
  q?: string;
  limit: number;
}

/** Live conversations, those waiting for a person first, then human, bot and closed; newest first in each. */
export async function listConversations(
  models: ConsoleModels,
  options: ListOptions,
): Promise<ConversationSummary[]> {
  const modes = options.mode ? [options.mode] : MODE_ORDER;
  const found: StoredConversation[] = [];
  for (const mode of modes) {
    if (found.length >= options.limit) break;
    const filter: Record<string, unknown> = { channel: WIDGET_CHANNEL, status: mode };
    if (options.q) filter['messages.text'] = { $regex: escapeRegex(options.q), $options: 'i' };
    const batch = await models.Conversation.find(filter)
      .sort({ lastMessageAt: -1 })
      .limit(options.limit - found.length)
      .lean();
    found.push(...(batch as unknown as StoredConversation[]));
  }
  const names = await siteNames(
    models,
    found.map((c) => c.siteId),
  );
  return found.map((c) => summarize(c, names.get(c.siteId?.toHexString() ?? '') ?? null));
}

export async function loadLiveConversation(models: ConsoleModels, id: string): Promise<StoredConversation> {
  if (!ObjectId.isValid(id) || id.length !== 24)
    throw notFound('No such conversation.', 'conversation_not_found');
  const conversation = await models.Conversation.findOne({
    _id: new ObjectId(id),
    channel: WIDGET_CHANNEL,
  }).lean();
  if (!conversation) throw notFound('No such conversation.', 'conversation_not_found');
  return conversation as unknown as StoredConversation;
}

async function contactOf(
  models: ConsoleModels,
  conversation: StoredConversation,
): Promise<ConversationDetail['contact']> {
  const contacts = await models.VisitorContact.find({
    $or: [
      { conversationId: conversation._id },
      { siteId: conversation.siteId, visitorId: conversation.customerId },
    ],
  })
    .sort({ createdAt: -1 })
    .lean();
  if (contacts.length === 0) return null;
  const identified = contacts.find((c) => c.kind === 'identify');
  const left = contacts.find((c) => c.kind === 'leave-email' && c.conversationId?.equals(conversation._id));
  return { name: identified?.name ?? null, email: identified?.email ?? null, leftEmail: left?.email ?? null };
}

export async function conversationDetail(models: ConsoleModels, id: string): Promise<ConversationDetail> {
  const conversation = await loadLiveConversation(models, id);
  return {
    ...(await summarizeOne(models, conversation)),
    messages: conversation.messages.map(presentConsoleMessage),
    contact: await contactOf(models, conversation),
  };
}

/**
 * Stores an agent's verdict on a bot reply (replacing an earlier one). Addressed by array index,
 * guarded by the message id: the embedded server has no positional `$` operator.
 */
export async function rateMessage(
  models: ConsoleModels,
  conversationId: string,
  messageId: string,
  request: RateRequest,
  agent: StaffUser,
): Promise<ConsoleMessage> {
  const conversation = await loadLiveConversation(models, conversationId);
  const index = conversation.messages.findIndex((m) => m._id.toHexString() === messageId);
  if (index < 0) throw notFound('No such message in this conversation.', 'message_not_found');
  const message = conversation.messages[index]!;
  if (message.role !== 'bot') throw badRequest('Only bot replies are rated.', 'not_a_bot_reply');
  if (request.value === 'corrected' && !request.correction?.trim())
    throw badRequest('A corrected rating needs the corrected reply.', 'correction_missing');
  const rating: StoredRating = {
    value: request.value,
    correction: request.value === 'corrected' ? request.correction!.trim() : null,
    reasons: request.reasons ?? [],
    by: new ObjectId(agent.id),
    byName: agent.name,
    at: new Date(),
  };
  const result = await models.Conversation.updateOne(
    { _id: conversation._id, [`messages.${index}._id`]: message._id },
    { $set: { [`messages.${index}.rating`]: rating } },
  );
  if (result.matchedCount !== 1)
    throw notFound('The conversation changed; reload it and rate again.', 'message_moved');
  return presentConsoleMessage({ ...message, rating });
}

export interface ReviewOptions {
  order: 'newest' | 'confidence';
  limit: number;
}

/** Context shown with a reply in the review queue: the messages just before it. */
const REVIEW_CONTEXT = 3;
/** Conversations scanned for unrated replies; the queue is about recent work. */
const REVIEW_SCAN = 500;

export async function reviewQueue(models: ConsoleModels, options: ReviewOptions): Promise<ReviewItem[]> {
  const conversations = (await models.Conversation.find({
    channel: WIDGET_CHANNEL,
    messages: { $elemMatch: { role: 'bot', rating: null } },
  })
    .sort({ lastMessageAt: -1 })
    .limit(REVIEW_SCAN)
    .lean()) as unknown as StoredConversation[];
  const items: (ReviewItem & { sortTs: number; sortConfidence: number })[] = [];
  for (const conversation of conversations) {
    conversation.messages.forEach((message, index) => {
      if (message.role !== 'bot' || message.rating) return;
      items.push({
        conversationId: conversation._id.toHexString(),
        message: presentConsoleMessage(message),
        context: conversation.messages
          .slice(Math.max(0, index - REVIEW_CONTEXT), index)
          .map(presentConsoleMessage),
        sortTs: message.ts.getTime(),
        sortConfidence: message.confidence ?? 1,
      });
    });
  }
  items.sort((a, b) =>
    options.order === 'newest' ? b.sortTs - a.sortTs : a.sortConfidence - b.sortConfidence,
  );
  return items.slice(0, options.limit).map(({ sortTs: _t, sortConfidence: _c, ...item }) => item);
}
