import { describe, expect, it } from 'vitest';
import type { NormalizedMessage } from '../../../../server/ingest/normalize.js';
import { OpenConversations, type ReadMessage } from '../../../../server/ingest/open-conversations.js';

const MINUTE = 60_000;
let seq = 0;

function read(conversationKey: string, minute: number): ReadMessage {
  seq += 1;
  const message: NormalizedMessage = {
    conversationKey,
    messageKey: `${conversationKey}:${seq}`,
    role: 'customer',
    text: 'hi',
    ts: new Date(minute * MINUTE),
    channel: null,
    customerId: null,
    meta: null,
  };
  return { message, seq, before: { ts: `before-${seq}`, id: seq } };
}

const keys = (messages: NormalizedMessage[]) => [...new Set(messages.map((m) => m.conversationKey))];

describe('OpenConversations', () => {
  it('holds conversations active within the idle window and releases them whole once idle', () => {
    const open = new OpenConversations({ idleMs: 30 * MINUTE, maxHeld: 100 });
    const ready = open.admit([read('done', 0), read('done', 1), read('active', 50), read('active', 55)]);
    expect(keys(ready)).toEqual(['done']);
    expect(open.size).toBe(2);

    const later = open.admit([read('active', 60), read('new', 200)]);
    expect(later.map((m) => m.conversationKey)).toEqual(['active', 'active', 'active']);
    expect(keys(open.drain())).toEqual(['new']);
    expect(open.size).toBe(0);
  });

  it('moves the watermark only to just before the earliest held message', () => {
    const open = new OpenConversations({ idleMs: 30 * MINUTE, maxHeld: 100 });
    const first = read('a', 0);
    const held = read('b', 40);
    open.admit([first, held, read('c', 45), read('b', 50)]);
    expect(open.safeWatermark({ ts: 'end', id: 0 })).toEqual(held.before);
    const next = read('d', 100); // releases b and c; d itself is now the open one
    open.admit([next]);
    expect(open.safeWatermark({ ts: 'end', id: 0 })).toEqual(next.before);
    open.drain();
    expect(open.safeWatermark({ ts: 'end', id: 0 })).toEqual({ ts: 'end', id: 0 });
  });

  it('never holds more than maxHeld messages, writing the longest idle conversations first', () => {
    const open = new OpenConversations({ idleMs: 60 * MINUTE, maxHeld: 3 });
    const ready = open.admit([read('a', 0), read('a', 1), read('b', 2), read('c', 3), read('c', 4)]);
    expect(keys(ready)).toEqual(['a']);
    expect(open.size).toBe(3);
  });
});
