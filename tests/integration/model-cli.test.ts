import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../server/ml/architectures/registry.js';
import { generate } from '../../server/ml/generate.js';
import { loadCheckpoint } from '../../server/ml/safetensors.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { writeTinyTokenizer } from '../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { runCli } from '../support/cli.js';
import { referenceGpt2Logits } from '../unit/server/ml/reference/gpt2.js';
import { referenceLlamaLogits } from '../unit/server/ml/reference/llama.js';

let root: string;
const llama = () => path.join(root, 'llama');
const gpt2 = () => path.join(root, 'gpt2');
const env = { TFJS_BACKEND: 'cpu' };

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-model-cli-'));
  await writeTinyCheckpoint(llama(), {
    architecture: 'llama',
    dtype: 'BF16',
    tieWordEmbeddings: true,
    seed: 5,
  });
  await writeTinyTokenizer(llama());
  await writeTinyCheckpoint(gpt2(), { architecture: 'gpt2', dtype: 'F16', seed: 6, maxShardBytes: 20_000 });
  await writeTinyCheckpoint(path.join(root, 'mistral'), { architecture: 'llama' });
  const config = path.join(root, 'mistral', 'config.json');
  await writeFile(config, (await readFile(config, 'utf-8')).replace('"llama"', '"mistral"'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function json(args: string[]) {
  const result = await runCli(args, env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

describe('parley model', () => {
  it.concurrent.each([
    [
      'llama',
      llama,
      // embeddings (tied: once) + 2 layers of norms, q, k, v, o, MLP + final norm
      {
        architecture: 'llama',
        parameters: 64 * 32 + 2 * (2 * 32 + 32 * 32 * 2 + 16 * 32 * 2 + 3 * 64 * 32) + 32,
        dtype: 'bfloat16',
      },
    ],
    [
      'gpt2 (sharded)',
      gpt2,
      {
        architecture: 'gpt2',
        parameters: 2 * 64 * 32 + 2 * (4 * 32 + 32 * 96 + 96 + 32 * 32 + 32 + 2 * 32 * 64 + 64 + 32) + 64,
        dtype: 'float16',
      },
    ],
  ])('info describes the %s model as JSON', async (_, dir, expected) => {
    expect(await json(['model', 'info', '--model', dir()])).toEqual({
      ...expected,
      contextLength: 64,
      vocabSize: 64,
      layers: 2,
      hiddenSize: 32,
    });
  });

  it.concurrent.each([
    ['llama', llama, referenceLlamaLogits],
    ['gpt2', gpt2, referenceGpt2Logits],
  ] as const)(
    'logits prints [ids][vocab] logits of the %s model that match the float64 reference',
    async (_, dir, reference) => {
      const ids = [5, 17, 42, 0, 63];
      const { logits } = await json(['model', 'logits', '--model', dir(), '--ids', ids.join(',')]);
      const config = JSON.parse(await readFile(path.join(dir(), 'config.json'), 'utf-8'));
      const expected = reference(config, await loadCheckpoint(dir()), ids);
      expect(logits).toHaveLength(ids.length);
      let max = 0;
      for (const [i, row] of (logits as number[][]).entries()) {
        expect(row).toHaveLength(64);
        for (const [j, v] of row.entries()) max = Math.max(max, Math.abs(v - expected[i]![j]!));
      }
      expect(max).toBeLessThan(2e-5);
    },
  );

  it.concurrent.each([
    [
      'a missing directory',
      () => ['model', 'info', '--model', path.join(root, 'nope')],
      /model directory .*nope does not exist/,
    ],
    [
      'an unsupported model type',
      () => ['model', 'info', '--model', path.join(root, 'mistral')],
      /unsupported model_type "mistral"; supported: llama, qwen2, gpt2/,
    ],
    [
      'a non-integer id',
      () => ['model', 'logits', '--model', llama(), '--ids', '5,1.5'],
      /expected comma-separated non-negative integers, got "5,1\.5"/,
    ],
    ['a negative id', () => ['model', 'logits', '--model', llama(), '--ids', '-1'], /got "-1"/],
    [
      'an id past the vocabulary',
      () => ['model', 'logits', '--model', gpt2(), '--ids', '5,64'],
      /token id 64 is outside the vocabulary \[0, 64\)/,
    ],
    [
      'more ids than the context',
      () => ['model', 'logits', '--model', gpt2(), '--ids', Array(65).fill(1).join(',')],
      /65 ids exceed the context length 64/,
    ],
    ['no --ids', () => ['model', 'logits', '--model', llama()], /required option '--ids <ids>'/],
  ])('fails on stderr with a non-zero exit for %s', async (_, args, message) => {
    const result = await runCli(args(), env);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  describe('generate', () => {
    const PROMPT = 'hello my order is late';
    const generateArgs = (...extra: string[]) => [
      'model',
      'generate',
      '--model',
      llama(),
      '--prompt',
      PROMPT,
      ...extra,
    ];
    // Every CLI start costs seconds: the greedy run is shared.
    let greedyRun: Promise<{ text: string; tokens: number[]; finishReason: string }> | undefined;
    const greedy = () => {
      greedyRun ??= json(generateArgs('--max-new-tokens', '12'));
      return greedyRun;
    };

    it.concurrent('prints the same greedy text, tokens and finish reason as generate() with the directory tokenizer', async () => {
      const printed = await greedy();
      const tokenizer = await ChatTokenizer.load(llama());
      const { model } = await loadModel(llama());
      try {
        const expected = await generate(model, tokenizer, tokenizer.encode(PROMPT), {
          maxNewTokens: 12,
          temperature: 0,
          eosTokenIds: [tokenizer.eosTokenId!],
        });
        expect(printed).toEqual(expected);
        expect(printed.text.length).toBeGreaterThan(0);
      } finally {
        model.dispose();
      }
    });

    it.concurrent('streams the text of a seed to stdout with a newline, and another seed samples other text', async () => {
      const args = (seed: string) =>
        generateArgs('--temperature', '3', '--seed', seed, '--max-new-tokens', '24');
      const [streamed, printed, other] = await Promise.all([
        runCli([...args('8'), '--stream'], env),
        json(args('8')),
        json(args('9')),
      ]);
      expect(streamed.stderr).toBe('');
      expect(streamed.code).toBe(0);
      expect(printed.text.length).toBeGreaterThan(0);
      expect(streamed.stdout).toBe(`${printed.text}\n`);
      expect(other.tokens).not.toEqual(printed.tokens);
    });

    it.concurrent('stops before a --stop text', async () => {
      const full = await greedy();
      const stop = full.text.split(' ')[2]!;
      const stopped = await json(generateArgs('--max-new-tokens', '12', '--stop', 'never', '--stop', stop));
      expect(stopped.finishReason).toBe('stop');
      expect(stopped.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
      expect(full.tokens.slice(0, stopped.tokens.length)).toEqual(stopped.tokens);
    });

    it.concurrent.each([
      [
        'a directory without a tokenizer',
        () => ['model', 'generate', '--model', gpt2(), '--prompt', 'hi'],
        /has no tokenizer\.json/,
      ],
      [
        'a negative temperature',
        () => generateArgs('--temperature', '-1'),
        /expected a temperature >= 0, got "-1"/,
      ],
      [
        'a fractional seed',
        () => generateArgs('--seed', '1.5'),
        /expected a non-negative integer, got "1\.5"/,
      ],
      [
        'a prompt past the context',
        () => ['model', 'generate', '--model', llama(), '--prompt', 'hi '.repeat(65)],
        /65 tokens exceed the context length 64/,
      ],
    ])('generate fails on stderr with a non-zero exit for %s', async (_, args, message) => {
      const result = await runCli(args(), env);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
    });
  });
});
