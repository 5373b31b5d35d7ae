/**
 * The bot's side of live conversations: one reply at a time per conversation, streamed to the
 * visitor, stored with the version that wrote it and its confidence. A reply whose confidence is
 * below the site's threshold, or no model to answer, hands the conversation to a person. With
 * several servers, a claim (see reply-claims.ts) makes sure only one of them answers at a time; a
 * server that finds the conversation claimed asks again once the claim would have lapsed.
 */
import { ObjectId } from 'mongodb';
import type { ConversationEvents } from '../../conversations/events.js';
import { requestHuman } from '../../conversations/handoff.js';
import {
  appendMessage,
  type LiveMessage,
  type LiveModels,
  loadConversation,
} from '../../conversations/live.js';
import type { Logger } from '../../logger.js';
import type { ChatEngine } from '../../serving/engine.js';
import type { ChatTurn } from '../../serving/types.js';
import { presentWidgetMessage } from './present.js';
import type { WidgetServerToClient } from './protocol.js';
import { localReplyClaims, type ReplyClaims } from './reply-claims.js';

export interface BotReplyDeps {
  models: LiveModels;
  chat: Pick<ChatEngine, 'reply'>;
  events: ConversationEvents;
  logger: Logger;
  /** Who answers a conversation when several servers could; default: this process, at once. */
  claims?: ReplyClaims;
  /** Emits to every socket of the conversation's visitor. */
  emit: <E extends 'reply:start' | 'reply:token' | 'reply:end'>(
    conversationId: ObjectId,
    event: E,
    ...payload: Parameters<WidgetServerToClient[E]>
  ) => void;
}

export class BotReplies {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly running = new Map<string, AbortController>();
  /** Per conversation, the newest visitor message a reply already answered. */
  private readonly answered = new Map<string, string>();
  /** Conversations claimed by another server, to ask again when the claim lapses. */
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly deps: BotReplyDeps) {}

  /** Answers the conversation's newest visitor messages after any reply in progress. */
  request(conversationId: ObjectId, handoffThreshold: number): Promise<void> {
    const key = conversationId.toHexString();
    if (this.closed) return Promise.resolve();
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.answer(conversationId, handoffThreshold))
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error, conversation: key }, 'bot reply failed'),
      )
      .finally(() => {
        if (this.queues.get(key) === next) {
          this.queues.delete(key);
          this.answered.delete(key);
        }
      });
    this.queues.set(key, next);
    return next;
  }

  /** Stops the reply in progress (a person took over); nothing of it is stored. */
  stop(conversationId: ObjectId): void {
    this.running.get(conversationId.toHexString())?.abort();
  }

  /**
   * Stops every reply in progress (nothing of them is stored, nobody is handed over: the visitors
   * reconnect to another server, which answers) and every pending retry; later requests do nothing.
   */
  close(): void {
    this.closed = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    for (const controller of this.running.values()) controller.abort();
  }

  /** Resolves when every queued reply is done. */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  private async answer(conversationId: ObjectId, handoffThreshold: number): Promise<void> {
    const key = conversationId.toHexString();
    const claim = await (this.deps.claims ?? localReplyClaims).claim(key);
    if (!claim.granted) {
      this.deps.logger.debug(
        { conversation: key, retryInMs: claim.retryInMs },
        'another server is answering this conversation; asking again when its claim lapses',
      );
      this.retryLater(conversationId, handoffThreshold, claim.retryInMs);
      return;
    }
    try {
      await this.answerClaimed(conversationId, handoffThreshold);
    } finally {
      await claim.release();
    }
  }

  private retryLater(conversationId: ObjectId, handoffThreshold: number, delayMs: number): void {
    const key = conversationId.toHexString();
    if (this.closed || this.retries.has(key)) return;
    this.retries.set(
      key,
      setTimeout(() => {
        this.retries.delete(key);
        void this.request(conversationId, handoffThreshold);
      }, delayMs),
    );
  }

  /** Read after the claim: a reply another server stored meanwhile is seen here. */
  private async answerClaimed(conversationId: ObjectId, handoffThreshold: number): Promise<void> {
    const key = conversationId.toHexString();
    const conversation = await loadConversation(this.deps.models, conversationId);
    if (conversation?.status !== 'bot') return;
    const lastVisitorMessage = conversation.messages.findLast((m) => m.role === 'customer');
    if (!lastVisitorMessage || this.answered.get(key) === lastVisitorMessage._id.toHexString()) return;
    // Outside a burst of queued replies, the visitor is waiting only if they spoke last.
    if (!this.answered.has(key) && conversation.messages.at(-1)?.role !== 'customer') return;
    this.answered.set(key, lastVisitorMessage._id.toHexString());

    const turns: ChatTurn[] = conversation.messages.map((m) => ({ role: m.role, text: m.text }));
    const replyId = new ObjectId();
    const controller = new AbortController();
    this.running.set(key, controller);
    this.deps.emit(conversationId, 'reply:start', { replyId: replyId.toHexString() });
    try {
      const reply = await this.deps.chat
        .reply(turns, {
          signal: controller.signal,
          onToken: (delta) =>
            this.deps.emit(conversationId, 'reply:token', { replyId: replyId.toHexString(), delta }),
        })
        .catch((error: unknown) => {
          this.deps.logger.warn({ err: error, conversation: key }, 'no bot reply: handing over to a person');
          return null;
        });
      const text = reply?.text.trim() ?? '';
      if (!reply || controller.signal.aborted || reply.finishReason === 'aborted' || text === '') {
        this.deps.emit(conversationId, 'reply:end', { replyId: replyId.toHexString(), message: null });
        if (!reply && !controller.signal.aborted)
          await requestHuman(this.deps, conversation, 'bot_unavailable');
        // Nothing but whitespace: the visitor is not left waiting on a bot that had nothing to say.
        else if (reply && text === '' && reply.finishReason !== 'aborted' && !controller.signal.aborted)
          await requestHuman(this.deps, conversation, 'low_confidence');
        return;
      }
      const message: LiveMessage = {
        _id: replyId,
        role: 'bot',
        text,
        ts: new Date(),
        clientMessageId: null,
        modelVersion: reply.modelVersion,
        confidence: reply.confidence,
        authorId: null,
        authorName: null,
      };
      const stored = await appendMessage(this.deps.models, conversationId, message);
      this.deps.emit(conversationId, 'reply:end', {
        replyId: replyId.toHexString(),
        message: stored ? presentWidgetMessage(stored.message) : null,
      });
      if (!stored) return;
      this.deps.events.emit('message', { conversationId, siteId: conversation.siteId, message });
      if (reply.confidence < handoffThreshold) await requestHuman(this.deps, conversation, 'low_confidence');
    } finally {
      if (this.running.get(key) === controller) this.running.delete(key);
    }
  }
}
