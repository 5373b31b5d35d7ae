/** Factories for a company's raw support logs, in the demo helpdesk shape (one document per message). */
import { ObjectId } from 'mongodb';

let sequence = 0;

export interface RawMessageInput {
  ticket: string;
  author?: string;
  body?: unknown;
  at?: unknown;
  [field: string]: unknown;
}

export function rawMessage({
  ticket,
  author = 'end_user',
  body = 'Hello, I need help',
  at,
  ...rest
}: RawMessageInput) {
  sequence += 1;
  return {
    _id: new ObjectId(),
    message_id: `${ticket}:${sequence}`,
    ticket_id: ticket,
    author_type: author,
    body,
    created_at: at ?? new Date(Date.UTC(2024, 0, 1, 0, 0, sequence)),
    channel: 'chat',
    customer_id: `cus_${ticket}`,
    ...rest,
  };
}

/** A ticket: alternating customer and agent messages a second apart, starting at `start`. */
export function rawTicket(ticket: string, bodies: string[], start = new Date(Date.UTC(2024, 0, 1))) {
  return bodies.map((body, index) =>
    rawMessage({
      ticket,
      body,
      author: index % 2 === 0 ? 'end_user' : 'agent',
      at: new Date(start.getTime() + index * 1000),
      message_id: `${ticket}:${index}`,
    }),
  );
}
