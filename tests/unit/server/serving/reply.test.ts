import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../../server/ml/safetensors.js';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer } from '../../../../server/ml/tokenizer.js';
import { conversationMessages, endOfTurnIds, fitPrompt } from '../../../../server/serving/prompt.js';
import { confidenceOf, scoredGenerate } from '../../../../server/serving/scored-generate.js';
import { loadServedModel, ModelLoadError, replyWith } from '../../../../server/serving/served-model.js';
import type { ChatTurn } from '../../../../server/serving/types.js';

let root: string;
let chatml: string;
let plain: string;
let chatmlTokenizer: ChatTokenizer;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-serving-reply-'));
  chatml = path.join(root, 'chatml');
  plain = path.join(root, 'plain');
  await writeTinyCheckpoint(chatml, { architecture: 'llama', contextLength: 64, seed: 3 });
  await writeTinyTokenizer(chatml, { chatTemplate: CHATML_TEMPLATE });
  await writeTinyCheckpoint(plain, { architecture: 'gpt2', contextLength: 64, seed: 4 });
  await writeTinyTokenizer(plain);
  chatmlTokenizer = await ChatTokenizer.load(chatml);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const turns = (...texts: [ChatTurn['role'], string][]): ChatTurn[] =>
  texts.map(([role, text]) => ({ role, text }));

describe('conversation rendering', () => {
  it('puts the system prompt first, maps customer to user and agent/bot to assistant, merging consecutive turns', () => {
    const messages = conversationMessages(
      turns(
        ['bot', 'hi'],
        ['customer', 'my order'],
        ['customer', 'is late'],
        ['agent', 'sorry'],
        ['bot', 'ok'],
      ),
      'be helpful',
    );
    expect(messages).toEqual([
      { role: 'system', content: 'be helpful' },
      { role: 'assistant', content: 'hi' },
      { role: 'user', content: 'my order\nis late' },
      { role: 'assistant', content: 'sorry\nok' },
    ]);
  });

  it('skips empty turns and works without a system prompt', () => {
    expect(conversationMessages(turns(['customer', '  '], ['customer', 'hello']), null)).toEqual([
      { role: 'user', content: 'hello' },
    ]);
  });

  it('keeps the whole conversation when it fits, with an assistant turn opened', () => {
    const conversation = turns(['customer', 'hello'], ['agent', 'hi'], ['customer', 'where is my order']);
    const fitted = fitPrompt(chatmlTokenizer, conversation, 'you are helpful', 64);
    const expected = chatmlTokenizer.encodeChat(conversationMessages(conversation, 'you are helpful'), {
      addGenerationPrompt: true,
    });
    expect(fitted).toEqual({ ids: expected, droppedTurns: 0 });
  });

  it('drops the oldest turns first, keeping the system prompt and restarting at a customer turn', () => {
    const conversation = turns(
      ['customer', 'hello my order is late'],
      ['agent', 'sorry for the delay'],
      ['customer', 'where is the package'],
      ['agent', 'it will arrive tomorrow'],
      ['customer', 'thanks'],
    );
    const full = fitPrompt(chatmlTokenizer, conversation, 'you are helpful', 1000).ids.length;
    const fitted = fitPrompt(chatmlTokenizer, conversation, 'you are helpful', full - 1);
    expect(fitted.droppedTurns).toBe(2);
    expect(fitted.ids).toEqual(
      chatmlTokenizer.encodeChat(conversationMessages(conversation.slice(2), 'you are helpful'), {
        addGenerationPrompt: true,
      }),
    );
  });

  it('keeps the newest tokens when even the last customer turn does not fit', () => {
    const conversation = turns(['customer', 'where is my order where is my order where is my order']);
    const whole = fitPrompt(chatmlTokenizer, conversation, null, 1000).ids;
    const fitted = fitPrompt(chatmlTokenizer, conversation, null, 8);
    expect(fitted.ids).toEqual(whole.slice(whole.length - 8));
  });

  it('refuses a conversation without text', () => {
    expect(() => fitPrompt(chatmlTokenizer, turns(['customer', ' ']), 'x', 64)).toThrow(/no text/);
  });

  it.each([
    [
      'a ChatML template (and the token that opens the next turn)',
      () => chatml,
      ['<|im_end|>', '<|im_start|>'],
    ],
    ['the default template (eos after each assistant turn)', () => plain, ['</s>']],
  ])('finds the tokens that end an assistant turn with %s', async (_what, dir, tokens) => {
    const tokenizer = await ChatTokenizer.load(dir());
    expect(endOfTurnIds(tokenizer).map((id) => tokenizer.decode([id]))).toEqual(tokens);
  });
});

describe('scored generation and confidence', () => {
  it('maps mean log-probability to [0, 1], with 0 for no tokens', () => {
    expect(confidenceOf(0, 3)).toBe(1);
    expect(confidenceOf(Math.log(0.5) * 4, 4)).toBeCloseTo(0.5, 12);
    expect(confidenceOf(-5, 0)).toBe(0);
    expect(confidenceOf(Number.NaN, 2)).toBe(0);
  });

  it("reports the mean log-probability of the generated tokens under the model's own distribution", async () => {
    const served = await loadServedModel(chatml);
    try {
      const prompt = chatmlTokenizer.encodeChat([{ role: 'user', content: 'hello my order is late' }], {
        addGenerationPrompt: true,
      });
      // Sampled with a temperature and a penalty; the score must still be the model's plain distribution.
      const generated = await scoredGenerate(served.model, served.tokenizer, prompt, {
        maxNewTokens: 12,
        sampling: { temperature: 0.8, repetitionPenalty: 1.3 },
        seed: 7,
        eosTokenIds: [],
      });
      expect(generated.tokens).toHaveLength(12);
      const ids = [...prompt, ...generated.tokens];
      const logProbs = tf.tidy(() => tf.logSoftmax(served.model.forward(ids.slice(0, -1))));
      const rows = (await logProbs.array()) as number[][];
      logProbs.dispose();
      const expected = generated.tokens.reduce((sum, id, i) => sum + rows[prompt.length - 1 + i]![id]!, 0);
      expect(generated.logProbSum).toBeCloseTo(expected, 3);
    } finally {
      served.dispose();
    }
  });

  it('streams deltas that concatenate to the reply text and reports the confidence and finish reason', async () => {
    const served = await loadServedModel(chatml);
    try {
      const deltas: string[] = [];
      const reply = await replyWith(
        served,
        {
          turns: turns(['customer', 'where is my package']),
          systemPrompt: 'you are helpful',
          maxNewTokens: 10,
          sampling: { temperature: 1 },
          seed: 3,
        },
        { onDelta: (d) => deltas.push(d) },
      );
      expect(deltas.join('')).toBe(reply.text);
      expect(['eos', 'length']).toContain(reply.finishReason);
      expect(reply.tokens).toBeGreaterThan(0);
      expect(reply.confidence).toBeGreaterThan(0);
      expect(reply.confidence).toBeLessThanOrEqual(1);
      expect(reply.promptTokens).toBeLessThanOrEqual(64 - 10);
    } finally {
      served.dispose();
    }
  });

  it('returns an empty reply when the first token ends the turn', async () => {
    const served = await loadServedModel(chatml);
    try {
      const prompt = chatmlTokenizer.encodeChat([{ role: 'user', content: 'hello' }], {
        addGenerationPrompt: true,
      });
      const deltas: string[] = [];
      // Every id ends the turn, so the first one does.
      const everyId = Array.from({ length: 64 }, (_, id) => id);
      const generated = await scoredGenerate(served.model, served.tokenizer, prompt, {
        maxNewTokens: 5,
        sampling: { temperature: 0 },
        eosTokenIds: everyId,
        onDelta: (d) => deltas.push(d),
      });
      expect(generated).toMatchObject({ text: '', finishReason: 'eos' });
      expect(generated.tokens).toHaveLength(1);
      expect(deltas).toEqual([]);
    } finally {
      served.dispose();
    }
  });

  it('stops at the next token when aborted, keeping what was generated', async () => {
    const served = await loadServedModel(chatml);
    try {
      const controller = new AbortController();
      const deltas: string[] = [];
      const reply = await replyWith(
        served,
        {
          turns: turns(['customer', 'hello']),
          systemPrompt: null,
          maxNewTokens: 30,
          sampling: { temperature: 0 },
        },
        {
          signal: controller.signal,
          onDelta: (delta) => {
            deltas.push(delta);
            controller.abort();
          },
        },
      );
      expect(reply.finishReason).toBe('aborted');
      expect(reply.text).toBe(deltas.join(''));
      expect(reply.tokens).toBeLessThan(30);
    } finally {
      served.dispose();
    }
  });

  it('refuses weights that produce non-finite logits (the warm-up generation checks them)', async () => {
    const dir = path.join(root, 'nan');
    const { tensors } = await writeTinyCheckpoint(dir, { architecture: 'llama', contextLength: 64, seed: 5 });
    await writeTinyTokenizer(dir, { chatTemplate: CHATML_TEMPLATE });
    tensors['model.norm.weight']!.data.fill(Number.NaN);
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors, 'F32');
    await expect(loadServedModel(dir)).rejects.toThrow(/non-finite logits/);
  });

  it('refuses a directory whose weights are missing, with the reason', async () => {
    const broken = path.join(root, 'tokenizer-only');
    await writeTinyTokenizer(broken, { chatTemplate: CHATML_TEMPLATE });
    await expect(loadServedModel(broken)).rejects.toBeInstanceOf(ModelLoadError);
    await expect(loadServedModel(broken)).rejects.toThrow(/cannot load the model/);
  });
});
