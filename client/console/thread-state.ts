/**
 * One conversation as the console shows it: stored messages (each once, by id, in time order) and
 * the bot replies being streamed. Pure functions over immutable values.
 */
import type { ConsoleMessage } from '../../server/realtime/agent/protocol.js';

export interface Draft {
  replyId: string;
  text: string;
}

export interface Thread {
  messages: ConsoleMessage[];
  drafts: Draft[];
}

export const emptyThread = (messages: readonly ConsoleMessage[] = []): Thread => ({
  messages: [...messages],
  drafts: [],
});

/**
 * Adds a stored message or replaces the one with its id (a rating came back, say). A bot message
 * ends the stream it came from: one reply streams at a time per conversation, so the drafts go.
 */
export function withMessage(thread: Thread, message: ConsoleMessage): Thread {
  const index = thread.messages.findIndex((m) => m.id === message.id);
  let messages: ConsoleMessage[];
  if (index !== -1) {
    messages = thread.messages.map((m, i) => (i === index ? message : m));
  } else {
    messages = [...thread.messages, message];
    // Usually the newest; a late one goes where its time puts it.
    const time = Date.parse(message.ts);
    if (messages.length > 1 && Date.parse(messages[messages.length - 2]!.ts) > time) {
      messages.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
    }
  }
  const drafts = message.role === 'bot' && index === -1 ? [] : thread.drafts;
  return { messages, drafts };
}

export function withToken(thread: Thread, replyId: string, delta: string): Thread {
  const index = thread.drafts.findIndex((d) => d.replyId === replyId);
  const drafts =
    index === -1
      ? [...thread.drafts, { replyId, text: delta }]
      : thread.drafts.map((d, i) => (i === index ? { replyId, text: d.text + delta } : d));
  return { messages: thread.messages, drafts };
}

/** A fresh copy from the server replaces the messages; drafts still streaming stay. */
export function withHistory(thread: Thread, messages: readonly ConsoleMessage[]): Thread {
  return { messages: [...messages], drafts: thread.drafts };
}

/**
 * The conversation left the bot (an agent took over, it closed): a reply still streaming was
 * stopped and will not be stored, so its draft goes.
 */
export function withoutDrafts(thread: Thread): Thread {
  return thread.drafts.length === 0 ? thread : { messages: thread.messages, drafts: [] };
}

export const isBotReply = (message: ConsoleMessage) => message.role === 'bot';

/**
 * The id selected after moving `step` bot replies from `current` (j/k): nothing selected starts at
 * the first reply going down and the last going up; the ends hold.
 */
export function moveSelection(ids: readonly string[], current: string | null, step: 1 | -1): string | null {
  if (ids.length === 0) return null;
  const index = current === null ? -1 : ids.indexOf(current);
  if (index === -1) return step === 1 ? ids[0]! : ids[ids.length - 1]!;
  const next = Math.min(ids.length - 1, Math.max(0, index + step));
  return ids[next]!;
}

/** Confidence as people read it: "87%". */
export function formatConfidence(confidence: number | null): string | null {
  if (confidence === null || !Number.isFinite(confidence)) return null;
  return `${Math.round(Math.min(1, Math.max(0, confidence)) * 100)}%`;
}

/** A new idempotency key for a reply, kept while the same text is retried. */
export function newClientMessageId(): string {
  return crypto.randomUUID();
}
