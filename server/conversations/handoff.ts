/** Moving a live conversation between the bot and people. */
import type { ObjectId } from 'mongodb';
import type { ConversationMode, HandoffReason } from '../realtime/widget/protocol.js';
import type { ConversationEvents } from './events.js';
import { appendMessage, type LiveMessage, type LiveModels, setMode } from './live.js';

export interface HandoffDeps {
  models: LiveModels;
  events: ConversationEvents;
}

interface ConversationRef {
  _id: ObjectId;
  siteId: ObjectId;
}

async function changeMode(
  deps: HandoffDeps,
  conversation: ConversationRef,
  mode: ConversationMode,
  reason: HandoffReason | null,
): Promise<void> {
  if (!(await setMode(deps.models, conversation._id, mode, reason))) return;
  deps.events.emit('mode', { conversationId: conversation._id, siteId: conversation.siteId, mode, reason });
}

/** The bot stops; the conversation waits for a person (agents are told through the events). */
export const requestHuman = (deps: HandoffDeps, conversation: ConversationRef, reason: HandoffReason) =>
  changeMode(deps, conversation, 'waiting', reason);

/** An agent answers from now on; the bot stops. */
export const takeOver = (deps: HandoffDeps, conversation: ConversationRef) =>
  changeMode(deps, conversation, 'human', 'agent');

/** The bot answers again. */
export const handBack = (deps: HandoffDeps, conversation: ConversationRef) =>
  changeMode(deps, conversation, 'bot', null);

/** The conversation is over: nobody answers it any more, and it can become training data. */
export const closeConversation = (deps: HandoffDeps, conversation: ConversationRef) =>
  changeMode(deps, conversation, 'closed', null);

/** Stores an agent's reply and tells the visitor. */
export async function sendAgentMessage(
  deps: HandoffDeps,
  conversation: ConversationRef,
  agent: { id: ObjectId; name: string },
  text: string,
  messageId: ObjectId,
): Promise<LiveMessage | null> {
  const message: LiveMessage = {
    _id: messageId,
    role: 'agent',
    text,
    ts: new Date(),
    clientMessageId: null,
    modelVersion: null,
    confidence: null,
    authorId: agent.id,
    authorName: agent.name,
  };
  const appended = await appendMessage(deps.models, conversation._id, message);
  if (!appended) return null;
  if (!appended.duplicate)
    deps.events.emit('message', { conversationId: conversation._id, siteId: conversation.siteId, message });
  return appended.message;
}
