import type { LiveMessage } from '../../conversations/live.js';
import type { WidgetMessage } from './protocol.js';

/** A stored message as the visitor's widget sees it: no model internals, no agent ids. */
export function presentWidgetMessage(message: LiveMessage): WidgetMessage {
  return {
    id: message._id.toHexString(),
    clientMessageId: message.clientMessageId ?? null,
    role: message.role,
    text: message.text,
    ts: message.ts.toISOString(),
    authorName: message.role === 'agent' ? (message.authorName ?? null) : null,
  };
}
