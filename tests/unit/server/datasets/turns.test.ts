import { describe, expect, it } from 'vitest';
import { type StoredMessage, trainableTurnCount, trainingTurns } from '../../../../server/datasets/turns.js';

const customer = (text: string): StoredMessage => ({ role: 'customer', text });
const agent = (text: string): StoredMessage => ({ role: 'agent', text });
const bot = (text: string, rating?: StoredMessage['rating']): StoredMessage => ({
  role: 'bot',
  text,
  rating,
});

describe('trainingTurns', () => {
  it.each([
    ['a human agent reply', agent('It ships today.'), 'It ships today.', true],
    ['a bot reply rated up', bot('It ships today.', { value: 'up' }), 'It ships today.', true],
    [
      'a corrected bot reply, as the correction',
      bot('No idea.', { value: 'corrected', correction: 'It ships today.' }),
      'It ships today.',
      true,
    ],
    ['a bot reply rated down (context only)', bot('No idea.', { value: 'down' }), 'No idea.', false],
    ['an unrated bot reply (context only)', bot('Let me check.'), 'Let me check.', false],
    [
      'a correction without text (context only)',
      bot('No idea.', { value: 'corrected', correction: null }),
      'No idea.',
      false,
    ],
  ])('trains on %s', (_what, message, content, train) => {
    const [, reply] = trainingTurns([customer('Where is my order?'), message], null);
    expect(reply).toEqual({ role: 'assistant', content, train });
  });

  it('never trains on the customer or the system prompt', () => {
    const turns = trainingTurns([customer('Hi'), agent('Hello')], 'You are Acme support.');
    expect(turns.map((t) => [t.role, t.train])).toEqual([
      ['system', false],
      ['user', false],
      ['assistant', true],
    ]);
  });

  it('merges consecutive turns of one role and flag, and keeps a target apart from context', () => {
    const turns = trainingTurns(
      [customer('Hi'), customer('Are you there?'), bot('One moment'), agent('Hello!')],
      null,
    );
    expect(turns).toEqual([
      { role: 'user', content: 'Hi\nAre you there?', train: false },
      { role: 'assistant', content: 'One moment', train: false },
      { role: 'assistant', content: 'Hello!', train: true },
    ]);
    expect(trainableTurnCount(turns)).toBe(1);
  });
});
