/**
 * The demo "company database": a helpdesk-style shape that is deliberately unlike Parley's own,
 * one document per message, so that ingestion's field mapping does real work.
 */
import { createHash } from 'node:crypto';
import type { ObjectId } from 'mongodb';
import { deterministicId } from '../server/db/ids.js';
import type { Dialogue } from './dialogues.js';

export const DEMO_SOURCE_DATABASE = 'parley_demo_source';
export const DEMO_SOURCE_COLLECTION = 'support_messages';

export interface RawSupportMessage {
  _id: ObjectId;
  message_id: string;
  ticket_id: string;
  author_type: 'end_user' | 'agent';
  body: string;
  created_at: Date;
  channel: string;
  customer_id: string;
  /** Ticket-level labels from the source, on the ticket's first message only. */
  ticket_attributes?: Record<string, unknown>;
}

const AUTHOR_TYPE = { customer: 'end_user', agent: 'agent' } as const;

function customerIdFor(conversationId: string): string {
  return `cus_${createHash('sha256').update(conversationId).digest('hex').slice(0, 12)}`;
}

export function toRawMessages(dialogue: Dialogue): RawSupportMessage[] {
  const customerId = customerIdFor(dialogue.conversationId);
  return dialogue.turns.map((turn, index) => {
    const message: RawSupportMessage = {
      _id: deterministicId('demo-source-message', dialogue.conversationId, index),
      message_id: `${dialogue.conversationId}:${index}`,
      ticket_id: dialogue.conversationId,
      author_type: AUTHOR_TYPE[turn.role],
      body: turn.text,
      created_at: new Date(turn.ts),
      channel: dialogue.channel,
      customer_id: customerId,
    };
    if (index === 0)
      message.ticket_attributes = { startedAt: new Date(dialogue.startedAt), ...dialogue.meta };
    return message;
  });
}
