/**
 * What happens in live conversations, for whoever listens in this process: the widget namespace
 * relays agent messages and handoffs to visitors; the agent inbox (console) relays visitor
 * messages, bot replies and handoff requests to agents.
 */
import { EventEmitter } from 'node:events';
import type { ObjectId } from 'mongodb';
import type { ConversationMode, HandoffReason } from '../realtime/widget/protocol.js';
import type { LiveMessage } from './live.js';

export interface ConversationEventMap {
  /** A message was stored (any role). */
  message: [{ conversationId: ObjectId; siteId: ObjectId; message: LiveMessage }];
  /** The conversation's mode changed: a handoff was asked for, an agent took over or handed back. */
  mode: [
    { conversationId: ObjectId; siteId: ObjectId; mode: ConversationMode; reason: HandoffReason | null },
  ];
  /** A piece of a bot reply being streamed. */
  replyToken: [{ conversationId: ObjectId; replyId: string; delta: string }];
  /** A streamed bot reply ended; stored is false when nothing was kept. */
  replyEnd: [{ conversationId: ObjectId; replyId: string; stored: boolean }];
  /** An agent rated a bot reply. */
  rated: [{ conversationId: string }];
}

export class ConversationEvents extends EventEmitter<ConversationEventMap> {}
