import type { WidgetMessage } from '../../../../server/realtime/widget/protocol.js';

let sequence = 0;

/** A stored widget message; a visitor's carries its clientMessageId. */
export function storedMessage(overrides: Partial<WidgetMessage> = {}): WidgetMessage {
  sequence += 1;
  return {
    id: `m${sequence}`,
    clientMessageId: null,
    role: 'bot',
    text: `message ${sequence}`,
    ts: new Date(Date.UTC(2026, 0, 1, 12, 0, sequence)).toISOString(),
    authorName: null,
    ...overrides,
  };
}
