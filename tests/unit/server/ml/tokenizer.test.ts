import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer, DEFAULT_CHAT_TEMPLATE } from '../../../../server/ml/tokenizer.js';

let root: string;
let vocab: Map<string, number>;
let chatml: ChatTokenizer;
let plain: ChatTokenizer;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-tokenizer-'));
  vocab = await writeTinyTokenizer(path.join(root, 'chatml'), { chatTemplate: CHATML_TEMPLATE });
  await writeTinyTokenizer(path.join(root, 'plain'));
  chatml = await ChatTokenizer.load(path.join(root, 'chatml'));
  plain = await ChatTokenizer.load(path.join(root, 'plain'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const id = (token: string) => {
  const value = vocab.get(token);
  if (value === undefined) throw new Error(`test vocabulary lacks ${token}`);
  return value;
};

const chat = [
  { role: 'system', content: 'you are helpful' },
  { role: 'user', content: 'my order is late' },
  { role: 'assistant', content: 'sorry for the delay' },
] as const;

describe('ChatTokenizer', () => {
  it.each([
    ['hello, my order is late!', ['hello', ',', 'my', 'order', 'is', 'late', '!']],
    ['where is it?\nthanks', ['where', 'is', 'it', '?', '\n', 'thanks']],
    ['hello zebra', ['hello', '<unk>']], // a word outside the vocabulary
    ['', []],
  ])('encodes %j to the vocabulary ids of its words', (text, tokens) => {
    expect(chatml.encode(text)).toEqual(tokens.map(id));
  });

  it('decodes ids back to the words, keeping or skipping special tokens as asked', () => {
    const ids = [id('<|im_start|>'), id('hello'), id('agent'), id('</s>')];
    expect(chatml.decode(ids)).toBe('<|im_start|> hello agent </s>');
    expect(chatml.decode(ids, { skipSpecialTokens: true })).toBe('hello agent');
    expect(chatml.eosTokenId).toBe(id('</s>'));
    expect(chatml.vocabSize).toBeLessThanOrEqual(64);
  });

  it('renders a chat with the chat_template of tokenizer_config.json', () => {
    expect(chatml.hasChatTemplate).toBe(true);
    expect(chatml.renderChat([...chat], { addGenerationPrompt: false })).toBe(
      '<|im_start|>system\nyou are helpful<|im_end|>\n' +
        '<|im_start|>user\nmy order is late<|im_end|>\n' +
        '<|im_start|>assistant\nsorry for the delay<|im_end|>\n',
    );
    expect(chatml.renderChat([chat[1]], { addGenerationPrompt: true })).toBe(
      '<|im_start|>user\nmy order is late<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('encodes a rendered chat with its control tokens as single ids', () => {
    expect(chatml.encodeChat([chat[1]], { addGenerationPrompt: true })).toEqual(
      [
        '<|im_start|>',
        'user',
        '\n',
        'my',
        'order',
        'is',
        'late',
        '<|im_end|>',
        '\n',
        '<|im_start|>',
        'assistant',
        '\n',
      ].map(id),
    );
  });

  it('falls back to the default template for a tokenizer without one, ending assistant turns with eos', () => {
    expect(plain.hasChatTemplate).toBe(false);
    expect(plain.renderChat([...chat], { addGenerationPrompt: true })).toBe(
      'System: you are helpful\nUser: my order is late\nAssistant: sorry for the delay</s>\nAssistant:',
    );
    expect(plain.renderChat([chat[1]])).toBe('User: my order is late\n');
    expect(DEFAULT_CHAT_TEMPLATE).toContain('eos_token');
    expect(plain.encodeChat([chat[1]], { addGenerationPrompt: true })).toEqual(
      ['User', ':', 'my', 'order', 'is', 'late', '\n', 'Assistant', ':'].map(id),
    );
  });

  it('rejects an empty chat', () => {
    expect(() => chatml.renderChat([])).toThrow('a chat needs at least one message');
  });

  it.each([
    ['a missing directory', async () => path.join(root, 'nope'), /has no tokenizer\.json/],
    [
      'a directory without tokenizer.json',
      async () => {
        const dir = path.join(root, 'config-only');
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, 'tokenizer_config.json'), '{}');
        return dir;
      },
      /has no tokenizer\.json/,
    ],
    [
      'a tokenizer.json that is not JSON',
      async () => {
        const dir = path.join(root, 'broken');
        await writeTinyTokenizer(dir);
        await writeFile(path.join(dir, 'tokenizer.json'), '{ broken');
        return dir;
      },
      /cannot load the tokenizer in .*broken/,
    ],
  ])('fails clearly for %s, with remote loading off', async (_, makeDir, message) => {
    await expect(ChatTokenizer.load(await makeDir())).rejects.toThrow(message);
    expect(env.allowRemoteModels).toBe(false);
  });
});
