/**
 * Conversations still open at the end of a batch. A helpdesk source sorted by time interleaves
 * conversations, so a batch boundary cuts through the few that are active. Writing them at once
 * and appending the rest one batch later costs an update per conversation; holding their messages
 * back until they have been idle for a while (in source time) lets each be inserted once.
 *
 * Holding back must not break resumption: the watermark may only move to just before the
 * earliest held message, so a run killed now re-reads it (deterministic ids skip what was written).
 */
import type { NormalizedMessage } from './normalize.js';
import type { Watermark } from './watermark.js';

export interface ReadMessage {
  message: NormalizedMessage;
  /** Position of its source document in read order. */
  seq: number;
  /** The watermark just before its source document: where a resumed run must start to see it. */
  before: Watermark | null;
}

export interface OpenConversationsOptions {
  /** A conversation idle this long before the batch's newest message is written; younger ones wait. */
  idleMs: number;
  /** At most this many messages wait; beyond it the longest idle conversations are written. */
  maxHeld: number;
}

interface Held {
  messages: ReadMessage[];
  lastTs: number;
  firstSeq: number;
}

export class OpenConversations {
  private held = new Map<string, Held>();
  private heldCount = 0;

  constructor(private readonly options: OpenConversationsOptions) {}

  /** Adds a batch's messages and returns those whose conversations may be written now. */
  admit(incoming: ReadMessage[]): NormalizedMessage[] {
    let newest = Number.NEGATIVE_INFINITY;
    for (const read of incoming) {
      const key = read.message.conversationKey;
      const ts = read.message.ts.getTime();
      newest = Math.max(newest, ts);
      const entry = this.held.get(key);
      if (entry) {
        entry.messages.push(read);
        entry.lastTs = Math.max(entry.lastTs, ts);
        entry.firstSeq = Math.min(entry.firstSeq, read.seq);
      } else this.held.set(key, { messages: [read], lastTs: ts, firstSeq: read.seq });
    }
    this.heldCount += incoming.length;

    const ready: NormalizedMessage[] = [];
    const release = (key: string, entry: Held) => {
      for (const read of entry.messages) ready.push(read.message);
      this.heldCount -= entry.messages.length;
      this.held.delete(key);
    };
    for (const [key, entry] of this.held) {
      if (newest - entry.lastTs >= this.options.idleMs) release(key, entry);
    }
    if (this.heldCount > this.options.maxHeld) {
      const byIdle = [...this.held].sort(([, a], [, b]) => a.lastTs - b.lastTs);
      for (const [key, entry] of byIdle) {
        if (this.heldCount <= this.options.maxHeld) break;
        release(key, entry);
      }
    }
    return ready;
  }

  /** Everything still held (the end of the run). */
  drain(): NormalizedMessage[] {
    const all: NormalizedMessage[] = [];
    for (const entry of this.held.values()) for (const read of entry.messages) all.push(read.message);
    this.held.clear();
    this.heldCount = 0;
    return all;
  }

  /**
   * How far the source may move once everything admitted so far (and not held) is committed:
   * just before the earliest held message, or `readMark` when nothing is held.
   */
  safeWatermark(readMark: Watermark | null): Watermark | null {
    let earliest: ReadMessage | null = null;
    for (const entry of this.held.values()) {
      if (earliest !== null && entry.firstSeq >= earliest.seq) continue;
      earliest = entry.messages.find((read) => read.seq === entry.firstSeq) ?? null;
    }
    return earliest ? earliest.before : readMark;
  }

  get size(): number {
    return this.heldCount;
  }
}
