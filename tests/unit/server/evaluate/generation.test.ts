import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GeneratedReply,
  type GenerationSample,
  generateReplies,
  generationMetrics,
  generationSamples,
  hasRepeatedRun,
  isRepeatedReply,
} from '../../../../server/evaluate/generation.js';
import { words } from '../../../../server/evaluate/text-metrics.js';
import type { DialogueTurn, ValidationConversation } from '../../../../server/evaluate/validation-split.js';
import { loadServedModel } from '../../../../server/serving/served-model.js';
import { tempDataDir } from '../../../support/env.js';
import { tinyBaseModel } from '../../../support/pipeline.js';

describe('repeated replies', () => {
  it.each([
    ['ok ok ok', true],
    ['ok ok', false],
    ['thanks you are welcome you are welcome you are welcome', true],
    ['you are welcome you are welcome', false], // a 3-word run needs 3 times
    ['how can i help you how can i help you', true], // a 4-word run twice
    ['the order is late and the order will arrive', false], // repeated, not back to back
    ['sorry for the delay it will arrive tomorrow', false],
    ['', false],
  ])('%j has a repeated run: %s', (text, expected) => {
    expect(hasRepeatedRun(words(text))).toBe(expected);
  });

  it('flags a reply that parrots the last agent turn, and not an empty one', () => {
    const context = [
      { role: 'agent' as const, text: 'Your refund is sent.' },
      { role: 'customer' as const, text: 'thanks' },
    ];
    expect(isRepeatedReply('your refund is sent', context)).toBe(true);
    expect(isRepeatedReply('you are welcome', context)).toBe(false);
    expect(isRepeatedReply('', context)).toBe(false);
    expect(isRepeatedReply('thanks', [{ role: 'customer', text: 'thanks' }])).toBe(false);
  });
});

describe('generation metrics', () => {
  const sample = (reference: string, context: DialogueTurn[] = [{ role: 'customer', text: 'hi' }]) => ({
    id: 'c:1',
    context,
    reference,
  });
  const reply = (text: string, tokens: number, finishReason: GeneratedReply['finishReason'] = 'eos') => ({
    text,
    tokens,
    finishReason,
  });

  it('averages scores and rates over the sample', () => {
    const samples: GenerationSample[] = [
      sample('it will arrive tomorrow'),
      sample('your refund is sent'),
      sample('hello how can i help'),
      sample('ok bye', [
        { role: 'agent', text: 'ok bye' },
        { role: 'customer', text: 'bye' },
      ]),
    ];
    const metrics = generationMetrics(samples, [
      reply('it will arrive tomorrow', 4),
      reply('', 0),
      reply('ok ok ok ok ok ok', 6, 'length'),
      reply('ok bye', 2),
    ]);
    expect(metrics.n).toBe(4);
    expect(metrics.rougeL).toBeCloseTo((1 + 0 + 0 + 1) / 4, 10);
    expect(metrics.emptyRate).toBe(0.25);
    expect(metrics.repeatedRate).toBe(0.5); // the loop, and the parroted "ok bye"
    expect(metrics.overLongRate).toBe(0.25);
    expect(metrics.meanReplyWords).toBe((4 + 0 + 6 + 2) / 4);
    expect(metrics.meanReplyTokens).toBe(3);
  });

  it('is all zeros with n = 0 on no samples', () => {
    expect(generationMetrics([], [])).toEqual({
      n: 0,
      rougeL: 0,
      bleu: 0,
      emptyRate: 0,
      repeatedRate: 0,
      overLongRate: 0,
      meanReplyWords: 0,
      meanReplyTokens: 0,
    });
  });
});

describe('generation samples', () => {
  const conversations: ValidationConversation[] = Array.from({ length: 12 }, (_, i) => ({
    id: `c${i}`,
    messages: [],
    turns: [
      { role: 'customer', text: `question ${i}` },
      { role: 'customer', text: 'still there?' },
      { role: 'agent', text: `answer ${i}` },
      { role: 'customer', text: 'thanks' },
      { role: 'agent', text: 'welcome' },
      { role: 'agent', text: 'bye' },
    ],
  }));

  it('takes one agent turn per conversation, seeded, with merged turns before it as context', () => {
    const samples = generationSamples(conversations, { count: 5, seed: 2 });
    expect(samples).toHaveLength(5);
    expect(new Set(samples.map((s) => s.id.split(':')[0])).size).toBe(5);
    for (const s of samples) {
      expect(s.context[0]!.text).toMatch(/^question \d+\nstill there\?$/);
      expect(s.context[s.context.length - 1]!.role).toBe('customer');
      expect(['welcome\nbye', expect.stringMatching(/^answer/)]).toContainEqual(s.reference);
    }
    expect(generationSamples(conversations, { count: 5, seed: 2 })).toEqual(samples);
    expect(generationSamples(conversations, { count: 5, seed: 3 })).not.toEqual(samples);
  });

  it('skips conversations without an agent reply after the first turn', () => {
    const quiet: ValidationConversation[] = [
      { id: 'a', messages: [], turns: [{ role: 'agent', text: 'hello' }] },
      { id: 'b', messages: [], turns: [{ role: 'customer', text: 'hello' }] },
    ];
    expect(generationSamples(quiet)).toEqual([]);
  });
});

describe('generating replies with a tiny model', () => {
  let data: { dir: string; cleanup: () => Promise<void> };
  let base: string;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    data = await tempDataDir();
    base = await tinyBaseModel(data.dir);
  });
  afterAll(() => data.cleanup());

  it('replies greedily within the token bound, the same way twice, freeing its tensors', async () => {
    const served = await loadServedModel(base);
    try {
      const samples = [
        { id: 'a:1', context: [{ role: 'customer' as const, text: 'where is my order' }], reference: 'soon' },
        { id: 'b:1', context: [{ role: 'customer' as const, text: 'hello' }], reference: 'hello' },
      ];
      const settings = { systemPrompt: null, maxNewTokens: 6 };
      const start = tf.memory().numTensors;
      const replies = await generateReplies(served, samples, settings);
      expect(tf.memory().numTensors).toBe(start);
      expect(replies).toHaveLength(2);
      for (const r of replies) {
        expect(r.tokens).toBeLessThanOrEqual(6);
        expect(['eos', 'length']).toContain(r.finishReason);
        if (r.finishReason === 'length') expect(r.tokens).toBe(6);
      }
      expect(await generateReplies(served, samples, settings)).toEqual(replies);
    } finally {
      served.dispose();
    }
  });
});
