import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenizeChat } from '../../../../server/datasets/tokenize.js';
import { trainingTurns } from '../../../../server/datasets/turns.js';
import { windowExamples } from '../../../../server/datasets/windows.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer } from '../../../../server/ml/tokenizer.js';
import { tempDataDir } from '../../../support/env.js';

describe.each([
  ['a ChatML template', CHATML_TEMPLATE],
  ['the default template', undefined],
])('chat rendering with %s', (_name, chatTemplate) => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let tokenizer: ChatTokenizer;
  beforeAll(async () => {
    dir = await tempDataDir();
    await writeTinyTokenizer(path.join(dir.dir, 'tok'), chatTemplate === undefined ? {} : { chatTemplate });
    tokenizer = await ChatTokenizer.load(path.join(dir.dir, 'tok'));
  });
  afterAll(() => dir.cleanup());

  const chat = trainingTurns(
    [
      { role: 'customer', text: 'where is my order' },
      { role: 'agent', text: 'sorry for the delay' },
      { role: 'customer', text: 'thanks' },
      { role: 'bot', text: 'bye', rating: { value: 'down' } },
      { role: 'customer', text: 'ok' },
      { role: 'agent', text: 'it will arrive tomorrow' },
    ],
    'you are helpful',
  );

  it('counts the loss on agent replies and their end of turn only', () => {
    const { ids, targets } = tokenizeChat(tokenizer, chat);
    const decoded = targets.map((t) => tokenizer.decode(ids.slice(t.start, t.end)));
    expect(decoded).toHaveLength(2);
    expect(decoded[0]).toContain('sorry for the delay');
    expect(decoded[1]).toContain('it will arrive tomorrow');
    for (const text of decoded) {
      expect(text).not.toMatch(/where|thanks|bye|helpful|assistant|Assistant/);
      expect(text).toMatch(/<\|im_end\|>|<\/s>/); // the model learns to stop
    }
  });

  it('keeps a conversation that fits in one example', () => {
    const whole = tokenizeChat(tokenizer, chat);
    const [example, ...rest] = windowExamples(tokenizer, chat, 512);
    expect(rest).toEqual([]);
    expect(example?.ids).toEqual(whole.ids);
    expect(example?.truncated).toBe(false);
  });

  it('cuts a long conversation into windows of whole turns, each with the system prompt', () => {
    const whole = tokenizeChat(tokenizer, chat);
    const limit = Math.ceil(whole.ids.length * 0.6);
    const examples = windowExamples(tokenizer, chat, limit);
    expect(examples.length).toBeGreaterThan(1);
    for (const example of examples) {
      expect(example.ids.length).toBeLessThanOrEqual(limit);
      expect(tokenizer.decode(example.ids)).toContain('you are helpful');
      expect(example.targets.length).toBeGreaterThan(0);
    }
    const covered = examples.map((e) => e.turnRange);
    expect(covered[0]?.[0]).toBe(0);
    for (let i = 1; i < covered.length; i += 1) expect(covered[i]?.[0]).toBe(covered[i - 1]?.[1]);
  });

  it('cuts a single turn longer than the context and says so', () => {
    const long = trainingTurns(
      [
        { role: 'customer', text: 'hello' },
        { role: 'agent', text: Array.from({ length: 40 }, () => 'sorry').join(' ') },
      ],
      null,
    );
    const [example] = windowExamples(tokenizer, long, 16);
    expect(example?.truncated).toBe(true);
    expect(example?.ids).toHaveLength(16);
    expect(example?.targets.every((t) => t.end <= 16)).toBe(true);
  });

  it('makes no example from a conversation without a trainable reply', () => {
    const contextOnly = trainingTurns(
      [
        { role: 'customer', text: 'hello' },
        { role: 'bot', text: 'hi' },
      ],
      null,
    );
    expect(windowExamples(tokenizer, contextOnly, 512)).toEqual([]);
  });
});
