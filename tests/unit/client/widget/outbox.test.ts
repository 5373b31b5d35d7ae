import { describe, expect, it } from 'vitest';
import { Outbox } from '../../../../client/widget/chat/outbox.js';
import { storedMessage } from './factories.js';

describe('Outbox', () => {
  it('offers messages in the order they were typed, one in flight at a time', () => {
    const outbox = new Outbox();
    outbox.add('a', 'first');
    outbox.add('b', 'second');
    expect(outbox.next()?.clientMessageId).toBe('a');
    outbox.markSending('a');
    expect(outbox.next()).toBeUndefined();
    outbox.remove('a');
    expect(outbox.next()?.clientMessageId).toBe('b');
  });

  it('requeues a message whose send failed, keeping its id and counting attempts', () => {
    const outbox = new Outbox();
    outbox.add('a', 'hello');
    outbox.markSending('a');
    outbox.requeue('a');
    expect(outbox.next()).toMatchObject({
      clientMessageId: 'a',
      text: 'hello',
      state: 'queued',
      attempts: 1,
    });
    outbox.markSending('a');
    expect(outbox.entries()[0]?.attempts).toBe(2);
  });

  it('requeueAll puts messages in flight back in the queue (the connection dropped)', () => {
    const outbox = new Outbox();
    outbox.add('a', 'one');
    outbox.markSending('a');
    outbox.requeueAll();
    expect(outbox.next()?.clientMessageId).toBe('a');
  });

  it('settles messages a session shows as stored, and keeps the others', () => {
    const outbox = new Outbox();
    outbox.add('a', 'stored while the ack was lost');
    outbox.add('b', 'never arrived');
    outbox.settle([storedMessage({ role: 'customer', clientMessageId: 'a' }), storedMessage()]);
    expect(outbox.entries().map((entry) => entry.clientMessageId)).toEqual(['b']);
  });

  it('remove returns undefined for an id it does not hold, and requeue ignores it', () => {
    const outbox = new Outbox();
    expect(outbox.remove('nope')).toBeUndefined();
    expect(() => outbox.requeue('nope')).not.toThrow();
    expect(() => outbox.markSending('nope')).toThrow(/no message nope/);
  });
});
