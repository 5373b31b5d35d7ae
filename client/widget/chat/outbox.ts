/**
 * The visitor's messages that the server has not acknowledged yet, in the order they were typed.
 * One is in flight at a time so the server stores them in order. A message whose send timed out or
 * whose connection dropped goes back to the queue and is sent again with the same clientMessageId:
 * the server stores each id once.
 */
import type { WidgetMessage } from '../../../server/realtime/widget/protocol.js';

export interface OutboxEntry {
  clientMessageId: string;
  text: string;
  state: 'queued' | 'sending';
  attempts: number;
}

export class Outbox {
  #entries: OutboxEntry[] = [];

  add(clientMessageId: string, text: string): OutboxEntry {
    const entry: OutboxEntry = { clientMessageId, text, state: 'queued', attempts: 0 };
    this.#entries.push(entry);
    return entry;
  }

  entries(): readonly OutboxEntry[] {
    return this.#entries;
  }

  has(clientMessageId: string): boolean {
    return this.#entries.some((entry) => entry.clientMessageId === clientMessageId);
  }

  /** The next message to send, or undefined while one is in flight or none is waiting. */
  next(): OutboxEntry | undefined {
    const first = this.#entries[0];
    return first?.state === 'queued' ? first : undefined;
  }

  markSending(clientMessageId: string): void {
    const entry = this.#find(clientMessageId);
    entry.state = 'sending';
    entry.attempts += 1;
  }

  /** The send timed out or the connection dropped: send it again later, with the same id. */
  requeue(clientMessageId: string): void {
    if (this.has(clientMessageId)) this.#find(clientMessageId).state = 'queued';
  }

  requeueAll(): void {
    for (const entry of this.#entries) entry.state = 'queued';
  }

  /** Acknowledged (stored or refused): no longer the outbox's business. */
  remove(clientMessageId: string): OutboxEntry | undefined {
    const index = this.#entries.findIndex((entry) => entry.clientMessageId === clientMessageId);
    return index === -1 ? undefined : this.#entries.splice(index, 1)[0];
  }

  /**
   * Drops the messages the server already stored (it stored one but its ack was lost with the
   * connection): a session's history settles them without a resend.
   */
  settle(stored: readonly WidgetMessage[]): void {
    const ids = new Set(stored.map((message) => message.clientMessageId));
    this.#entries = this.#entries.filter((entry) => !ids.has(entry.clientMessageId));
  }

  #find(clientMessageId: string): OutboxEntry {
    const entry = this.#entries.find((candidate) => candidate.clientMessageId === clientMessageId);
    if (!entry) throw new Error(`outbox: no message ${clientMessageId}`);
    return entry;
  }
}
