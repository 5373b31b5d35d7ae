import type { ConsoleMessage, ConversationSummary } from '../../../../server/realtime/agent/protocol.js';

let next = 0;
const id = () => (++next).toString(16).padStart(24, '0');

export function summary(overrides: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    id: id(),
    site: 'harbor',
    channel: 'widget',
    mode: 'bot',
    handoffReason: null,
    startedAt: '2026-05-01T10:00:00.000Z',
    lastMessageAt: '2026-05-01T10:00:00.000Z',
    preview: 'Hello',
    messageCount: 1,
    unratedBotReplies: 0,
    ...overrides,
  };
}

export function message(overrides: Partial<ConsoleMessage> = {}): ConsoleMessage {
  return {
    id: id(),
    role: 'customer',
    text: 'Hello',
    ts: '2026-05-01T10:00:00.000Z',
    modelVersion: null,
    confidence: null,
    authorName: null,
    rating: null,
    ...overrides,
  };
}

export const at = (minute: number) => `2026-05-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
