import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { Outbox } from '../../../../client/widget/chat/outbox.js';
import { type MessageTransport, Sender, type SendResults } from '../../../../client/widget/chat/sender.js';
import type { Ack, SendMessage, SendMessageResult } from '../../../../server/realtime/widget/protocol.js';
import { storedMessage } from './factories.js';

type Answer = Ack<SendMessageResult> | 'timeout';

/** A transport that answers each send from a script and records what was sent. */
function scriptedTransport(answers: Answer[]) {
  const sent: SendMessage[] = [];
  const transport: MessageTransport & { connected: boolean; sent: SendMessage[] } = {
    connected: true,
    sent,
    async sendMessage(payload) {
      sent.push(payload);
      const answer = answers.shift() ?? 'timeout';
      if (answer === 'timeout') throw new Error('operation has timed out');
      return answer;
    },
  };
  return transport;
}

const storedFor = ({ clientMessageId, text }: SendMessage, duplicate = false): Ack<SendMessageResult> => ({
  ok: true,
  message: storedMessage({ role: 'customer', clientMessageId, text }),
  duplicate,
});

describe('Sender', () => {
  let results: { stored: Mock<SendResults['stored']>; refused: Mock<SendResults['refused']> };
  beforeEach(() => {
    vi.useFakeTimers();
    results = { stored: vi.fn<SendResults['stored']>(), refused: vi.fn<SendResults['refused']>() };
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends queued messages in order and reports each stored one', async () => {
    const outbox = new Outbox();
    outbox.add('a', 'first');
    outbox.add('b', 'second');
    const transport = scriptedTransport([
      storedFor({ clientMessageId: 'a', text: 'first' }),
      storedFor({ clientMessageId: 'b', text: 'second' }),
    ]);
    await new Sender(transport, outbox, results).flush();
    expect(transport.sent.map((payload) => payload.clientMessageId)).toEqual(['a', 'b']);
    expect(results.stored.mock.calls.map(([message]) => message.clientMessageId)).toEqual(['a', 'b']);
    expect(outbox.entries()).toEqual([]);
  });

  it('after a timeout sends the message again with the same id, and only it until it is stored', async () => {
    const outbox = new Outbox();
    outbox.add('a', 'hello');
    outbox.add('b', 'after');
    const transport = scriptedTransport([
      'timeout',
      storedFor({ clientMessageId: 'a', text: 'hello' }, true),
      storedFor({ clientMessageId: 'b', text: 'after' }),
    ]);
    const sender = new Sender(transport, outbox, results, { retryDelayMs: 1000 });
    await sender.flush();
    expect(transport.sent).toEqual([{ clientMessageId: 'a', text: 'hello' }]);
    expect(outbox.next()?.clientMessageId).toBe('a');

    await vi.advanceTimersByTimeAsync(1000);
    expect(transport.sent.map((payload) => payload.clientMessageId)).toEqual(['a', 'a', 'b']);
    expect(results.stored).toHaveBeenCalledTimes(2);
    expect(outbox.entries()).toEqual([]);
  });

  it('waits while disconnected and sends when flushed after reconnecting', async () => {
    const outbox = new Outbox();
    outbox.add('a', 'offline message');
    const transport = scriptedTransport([storedFor({ clientMessageId: 'a', text: 'offline message' })]);
    transport.connected = false;
    const sender = new Sender(transport, outbox, results);
    await sender.flush();
    expect(transport.sent).toEqual([]);
    transport.connected = true;
    await sender.flush();
    expect(transport.sent).toEqual([{ clientMessageId: 'a', text: 'offline message' }]);
  });

  it('reports a refusal with the entry, so the text can be given back, and goes on with the next', async () => {
    const outbox = new Outbox();
    outbox.add('a', 'x'.repeat(50));
    outbox.add('b', 'short');
    const refusal = { ok: false as const, error: 'message_too_long' as const, message: 'too long' };
    const transport = scriptedTransport([refusal, storedFor({ clientMessageId: 'b', text: 'short' })]);
    await new Sender(transport, outbox, results).flush();
    expect(results.refused).toHaveBeenCalledWith(expect.objectContaining({ clientMessageId: 'a' }), refusal);
    expect(results.stored).toHaveBeenCalledTimes(1);
  });

  it('does not report a message twice when a session settled it while its ack was on the way', async () => {
    const outbox = new Outbox();
    outbox.add('a', 'hello');
    let answer: (result: Ack<SendMessageResult>) => void = () => undefined;
    const transport: MessageTransport = {
      connected: true,
      sendMessage: () => new Promise((resolve) => (answer = resolve)),
    };
    const flushed = new Sender(transport, outbox, results).flush();
    outbox.settle([storedMessage({ role: 'customer', clientMessageId: 'a' })]);
    answer(storedFor({ clientMessageId: 'a', text: 'hello' }, true));
    await flushed;
    expect(results.stored).not.toHaveBeenCalled();
  });

  it('stop cancels a pending retry', async () => {
    const outbox = new Outbox();
    outbox.add('a', 'hello');
    const transport = scriptedTransport(['timeout']);
    const sender = new Sender(transport, outbox, results, { retryDelayMs: 1000 });
    await sender.flush();
    sender.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(transport.sent).toHaveLength(1);
  });
});
