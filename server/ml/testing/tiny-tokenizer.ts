/**
 * Writes a tiny word-level tokenizer in Hugging Face layout (tokenizer.json and
 * tokenizer_config.json) whose vocabulary fits the tiny checkpoints (64 ids), for tests.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const TINY_SPECIAL_TOKENS = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'] as const;

/** A ChatML template, as Qwen2 ships one. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const WORDS = [
  'user',
  'assistant',
  'system',
  'hello',
  'hi',
  'my',
  'order',
  'is',
  'late',
  'where',
  'the',
  'a',
  'package',
  'sorry',
  'for',
  'delay',
  'it',
  'will',
  'arrive',
  'tomorrow',
  'thanks',
  'you',
  'are',
  'helpful',
  'agent',
  'refund',
  'please',
  'can',
  'i',
  'get',
  'help',
  'with',
  'account',
  'password',
  'reset',
  'email',
  'sent',
  'to',
  'your',
  'inbox',
  'what',
  'number',
  'of',
  'yes',
  'no',
  'ok',
  'bye',
  'User',
  'Assistant',
  'System',
  ':',
  '.',
  ',',
  '?',
  '!',
  '\n',
] as const;

export interface TinyTokenizerOptions {
  /** tokenizer_config.json's chat_template; omit for a tokenizer without one. */
  chatTemplate?: string;
}

export async function writeTinyTokenizer(
  dir: string,
  options: TinyTokenizerOptions = {},
): Promise<Map<string, number>> {
  const tokens = [...TINY_SPECIAL_TOKENS, ...WORDS];
  if (tokens.length > 64) throw new Error(`tiny tokenizer has ${tokens.length} tokens, more than 64`);
  const vocab = new Map(tokens.map((token, id) => [token, id]));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: TINY_SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    // Newlines are tokens of their own; other whitespace separates words.
    pre_tokenizer: {
      type: 'Split',
      pattern: { Regex: '\\n|[^\\s\\w]|\\w+' },
      behavior: 'Isolated',
      invert: true,
    },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(vocab), unk_token: '<unk>' },
  };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    model_max_length: 64,
    ...(options.chatTemplate === undefined ? {} : { chat_template: options.chatTemplate }),
  };
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'tokenizer.json'), `${JSON.stringify(tokenizer, null, 2)}\n`);
  await writeFile(path.join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return vocab;
}
