import { describe, expect, it } from 'vitest';
import {
  emptyThread,
  formatConfidence,
  moveSelection,
  withHistory,
  withMessage,
  withoutDrafts,
  withToken,
} from '../../../../client/console/thread-state.js';
import { at, message } from './factories.js';

describe('a conversation as it streams in', () => {
  it('adds a message once by id, and replaces it when it comes back rated', () => {
    const visitor = message({ ts: at(1) });
    const reply = message({ role: 'bot', ts: at(2), modelVersion: 'v2', confidence: 0.8 });
    let thread = withMessage(withMessage(emptyThread(), visitor), reply);
    thread = withMessage(thread, visitor);
    expect(thread.messages.map((m) => m.id)).toEqual([visitor.id, reply.id]);
    const rated = {
      ...reply,
      rating: {
        value: 'up' as const,
        reasons: [],
        correction: null,
        by: { id: 'u', name: 'Ada' },
        at: at(3),
      },
    };
    thread = withMessage(thread, rated);
    expect(thread.messages).toHaveLength(2);
    expect(thread.messages[1]!.rating?.value).toBe('up');
  });

  it('puts a late message where its time belongs', () => {
    const first = message({ ts: at(1) });
    const third = message({ ts: at(3) });
    const second = message({ ts: at(2) });
    const thread = [first, third, second].reduce(withMessage, emptyThread());
    expect(thread.messages.map((m) => m.id)).toEqual([first.id, second.id, third.id]);
  });

  it('accumulates streamed tokens per reply and drops the draft when the bot reply is stored', () => {
    let thread = withToken(emptyThread(), 'r1', 'Hel');
    thread = withToken(thread, 'r1', 'lo');
    expect(thread.drafts).toEqual([{ replyId: 'r1', text: 'Hello' }]);
    thread = withMessage(thread, message({ role: 'customer', text: 'more?' }));
    expect(thread.drafts).toHaveLength(1); // a visitor message does not end the stream
    thread = withMessage(thread, message({ role: 'bot', text: 'Hello' }));
    expect(thread.drafts).toEqual([]);
  });

  it('drops a draft whose reply was stopped (an agent took over)', () => {
    const thread = withMessage(withToken(emptyThread(), 'r1', 'Hi'), message());
    expect(withoutDrafts(thread)).toEqual({ messages: thread.messages, drafts: [] });
    const quiet = emptyThread([message()]);
    expect(withoutDrafts(quiet)).toBe(quiet);
  });

  it('keeps drafts when a fresh copy of the history arrives', () => {
    const thread = withHistory(withToken(emptyThread(), 'r1', 'Hi'), [message()]);
    expect(thread.messages).toHaveLength(1);
    expect(thread.drafts).toEqual([{ replyId: 'r1', text: 'Hi' }]);
  });
});

describe('moving between bot replies (j/k)', () => {
  const ids = ['a', 'b', 'c'];
  it.each([
    [null, 1, 'a'],
    [null, -1, 'c'],
    ['a', 1, 'b'],
    ['b', -1, 'a'],
    ['c', 1, 'c'],
    ['a', -1, 'a'],
    ['gone', 1, 'a'],
  ] as const)('from %s by %i selects %s', (current, step, expected) => {
    expect(moveSelection(ids, current, step)).toBe(expected);
  });

  it('selects nothing when there are no bot replies', () => {
    expect(moveSelection([], null, 1)).toBeNull();
  });
});

describe('confidence', () => {
  it.each([
    [0.874, '87%'],
    [1, '100%'],
    [0, '0%'],
    [1.7, '100%'],
    [null, null],
    [Number.NaN, null],
  ])('%s shows as %s', (value, expected) => {
    expect(formatConfidence(value)).toBe(expected);
  });
});
