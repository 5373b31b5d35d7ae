import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateScores, rankCases, replyScore } from '../../../../server/evaluate/ranking.js';
import { loadModel } from '../../../../server/ml/architectures/registry.js';
import type { CausalLM } from '../../../../server/ml/architectures/types.js';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';
import { type ChatMessage, ChatTokenizer } from '../../../../server/ml/tokenizer.js';
import { tempDataDir } from '../../../support/env.js';

const candidates = [
  'it will arrive tomorrow',
  'ok',
  'sorry for the delay your package is late',
  'hello how can i help',
];

describe.each(['llama', 'gpt2'] as const)(
  'scoring candidates from a shared context cache (%s)',
  (architecture) => {
    let data: { dir: string; cleanup: () => Promise<void> };
    let model: CausalLM;
    let tokenizer: ChatTokenizer;

    beforeAll(async () => {
      await tf.setBackend('cpu');
      data = await tempDataDir();
      await writeTinyCheckpoint(data.dir, { architecture, contextLength: 32, seed: 4 });
      await writeTinyTokenizer(data.dir, { chatTemplate: CHATML_TEMPLATE });
      ({ model } = await loadModel(data.dir));
      tokenizer = await ChatTokenizer.load(data.dir);
    });
    afterAll(async () => {
      model.dispose();
      await data.cleanup();
    });

    it('gives each candidate the score of a full pass over context and reply, freeing its tensors', () => {
      const context: ChatMessage[] = [
        { role: 'user', content: 'where is my order' },
        { role: 'assistant', content: 'what is your order number' },
        { role: 'user', content: 'it is late' },
      ];
      const opened = tokenizer.encodeChat(context, { addGenerationPrompt: true });
      const start = tf.memory().numTensors;
      const cached = candidateScores(model, tokenizer, context, opened, candidates);
      expect(tf.memory().numTensors).toBe(start);
      const full = candidates.map((reply) => replyScore(model, tokenizer, context, opened, reply));
      cached.forEach((score, i) => {
        expect(score).toBeCloseTo(full[i]!, 4);
      });
    });

    it('falls back to a full pass that drops the oldest context for a candidate that does not fit', () => {
      const context: ChatMessage[] = [
        { role: 'user', content: 'where is my order it is late where is my order' },
      ];
      const opened = tokenizer.encodeChat(context, { addGenerationPrompt: true });
      const long = 'sorry for the delay your package is late sorry for the delay your package is late';
      expect(tokenizer.encodeChat([...context, { role: 'assistant', content: long }]).length).toBeGreaterThan(
        32,
      );
      const [short, tooLong] = candidateScores(model, tokenizer, context, opened, ['ok', long]);
      expect(short).toBeCloseTo(replyScore(model, tokenizer, context, opened, 'ok'), 4);
      expect(tooLong).toBe(replyScore(model, tokenizer, context, opened, long));
    });

    it('ranks cases with R@1 <= MRR <= 1', () => {
      const result = rankCases(model, tokenizer, [
        { id: 'a', context: [{ role: 'customer', text: 'where is my order' }], candidates, answer: 0 },
        { id: 'b', context: [{ role: 'customer', text: 'hello' }], candidates, answer: 3 },
      ]);
      expect(result.n).toBe(2);
      expect(result.mrr).toBeGreaterThanOrEqual(result.r1);
      expect(result.mrr).toBeLessThanOrEqual(1);
    });
  },
);
