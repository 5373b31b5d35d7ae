/**
 * The conversation as the panel shows it: stored messages (each once, by id) followed by the
 * visitor's messages still waiting for the server. Pure functions over immutable arrays.
 */
import type { WidgetMessage } from '../../../server/realtime/widget/protocol.js';

export type TimelineItem =
  | { kind: 'stored'; key: string; message: WidgetMessage }
  | { kind: 'pending'; key: string; clientMessageId: string; text: string };

export interface PendingText {
  clientMessageId: string;
  text: string;
}

const storedItem = (message: WidgetMessage): TimelineItem => ({
  kind: 'stored',
  key: `m:${message.id}`,
  message,
});

const pendingItem = ({ clientMessageId, text }: PendingText): TimelineItem => ({
  kind: 'pending',
  key: `c:${clientMessageId}`,
  clientMessageId,
  text,
});

/** A session's history replaces what was shown; unacknowledged messages stay at the end. */
export function timelineFromHistory(
  history: readonly WidgetMessage[],
  pending: readonly PendingText[],
): TimelineItem[] {
  let items: TimelineItem[] = [];
  for (const message of history) items = withStored(items, message);
  for (const entry of pending) items = withPending(items, entry);
  return items;
}

/**
 * Adds a stored message, or updates the one with its id. A visitor's message takes the place of
 * its pending copy (same clientMessageId), so it does not jump or show twice.
 */
export function withStored(items: readonly TimelineItem[], message: WidgetMessage): TimelineItem[] {
  const next = storedItem(message);
  const sameId = items.findIndex((item) => item.kind === 'stored' && item.message.id === message.id);
  if (sameId !== -1) return items.map((item, index) => (index === sameId ? next : item));
  const pendingCopy =
    message.clientMessageId === null
      ? -1
      : items.findIndex(
          (item) => item.kind === 'pending' && item.clientMessageId === message.clientMessageId,
        );
  if (pendingCopy !== -1) return items.map((item, index) => (index === pendingCopy ? next : item));
  return [...items, next];
}

/** Adds a message the visitor just sent, unless it is already shown (pending or stored). */
export function withPending(items: readonly TimelineItem[], entry: PendingText): TimelineItem[] {
  const shown = items.some((item) =>
    item.kind === 'pending'
      ? item.clientMessageId === entry.clientMessageId
      : item.message.clientMessageId === entry.clientMessageId,
  );
  return shown ? [...items] : [...items, pendingItem(entry)];
}

export function withoutPending(items: readonly TimelineItem[], clientMessageId: string): TimelineItem[] {
  return items.filter((item) => !(item.kind === 'pending' && item.clientMessageId === clientMessageId));
}
