import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../../server/ml/architectures/registry.js';
import type { CausalLM } from '../../../../server/ml/architectures/types.js';
import type { Architecture } from '../../../../server/ml/config.js';
import { readEosTokenIds } from '../../../../server/ml/eos.js';
import {
  type GeneratedToken,
  type GenerateOptions,
  type GenerationTokenizer,
  generate,
} from '../../../../server/ml/generate.js';
import { argmax } from '../../../../server/ml/sampling.js';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';
import { writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer } from '../../../../server/ml/tokenizer.js';

let root: string;
const dirs = {} as Record<Architecture, string>;
let tokenizer: ChatTokenizer;
const PROMPT = [8, 10, 11, 12, 13];

beforeAll(async () => {
  // No banner recommending tfjs-node on stderr.
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-generate-'));
  for (const [i, architecture] of (['llama', 'qwen2', 'gpt2'] as const).entries()) {
    dirs[architecture] = path.join(root, architecture);
    await writeTinyCheckpoint(dirs[architecture], { architecture, seed: 20 + i });
  }
  await writeTinyTokenizer(dirs.llama);
  tokenizer = await ChatTokenizer.load(dirs.llama);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Loads the model, runs `body`, disposes it, and checks that no tensor is left behind. */
async function withModel<T>(dir: string, body: (model: CausalLM) => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const { model } = await loadModel(dir);
  try {
    return await body(model);
  } finally {
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
}

/** Greedy continuation by a full forward pass over the whole sequence at every step. */
function recomputedGreedy(model: CausalLM, prompt: number[], steps: number): number[] {
  const ids = [...prompt];
  for (let i = 0; i < steps; i++) {
    const logits = model.forward(ids);
    const last = logits.slice([ids.length - 1, 0], [1, -1]);
    ids.push(argmax(last.dataSync() as Float32Array));
    tf.dispose([logits, last]);
  }
  return ids.slice(prompt.length);
}

const greedy = (extra: Partial<GenerateOptions> = {}): GenerateOptions => ({
  maxNewTokens: 16,
  temperature: 0,
  eosTokenIds: [],
  ...extra,
});

describe('generate', () => {
  it.each(['llama', 'qwen2', 'gpt2'] as const)(
    'greedy on %s picks the argmax of a full recompute at every step',
    async (architecture) => {
      await withModel(dirs[architecture], async (model) => {
        const result = await generate(model, undefined, PROMPT, greedy());
        expect(result.tokens).toEqual(recomputedGreedy(model, PROMPT, 16));
        expect(result.finishReason).toBe('length');
        expect(result.text).toBe('');
      });
    },
  );

  it('runs the prompt once, then feeds one token per step', async () => {
    await withModel(dirs.llama, async (model) => {
      const fed: number[][] = [];
      const watched: CausalLM = {
        ...model,
        forwardWithCache: (ids, cache) => {
          fed.push([...ids]);
          return model.forwardWithCache(ids, cache);
        },
      };
      const { tokens } = await generate(watched, undefined, PROMPT, greedy({ maxNewTokens: 6 }));
      expect(fed).toEqual([PROMPT, ...tokens.slice(0, 5).map((id) => [id])]);
    });
  });

  it('repeats its output for a seed and varies it across seeds at a high temperature', async () => {
    await withModel(dirs.qwen2, async (model) => {
      const run = async (seed: number) =>
        (
          await generate(model, undefined, PROMPT, {
            maxNewTokens: 24,
            temperature: 5,
            seed,
            eosTokenIds: [],
          })
        ).tokens;
      const first = await run(1);
      expect(await run(1)).toEqual(first);
      expect(await run(2)).not.toEqual(first);
      expect(await run(3)).not.toEqual(first);
    });
  });

  it('with top-k 1 equals greedy, whatever the temperature and seed', async () => {
    await withModel(dirs.gpt2, async (model) => {
      const sampled = await generate(model, undefined, PROMPT, {
        maxNewTokens: 12,
        temperature: 3,
        topK: 1,
        seed: 9,
        eosTokenIds: [],
      });
      expect(sampled.tokens).toEqual(
        (await generate(model, undefined, PROMPT, greedy({ maxNewTokens: 12 }))).tokens,
      );
    });
  });

  it('with a repetition penalty stops repeating what greedy repeats', async () => {
    await withModel(dirs.llama, async (model) => {
      const plain = await generate(model, undefined, PROMPT, greedy({ maxNewTokens: 24 }));
      const penalized = await generate(
        model,
        undefined,
        PROMPT,
        greedy({ maxNewTokens: 24, repetitionPenalty: 100 }),
      );
      const distinct = (ids: number[]) => new Set(ids).size;
      expect(distinct(plain.tokens)).toBeLessThan(24);
      expect(distinct(penalized.tokens)).toBeGreaterThan(distinct(plain.tokens));
    });
  });

  it.each([
    ['given eos ids', (eos: number) => [undefined, [63, eos]] as const],
    [
      "the tokenizer's eos id",
      (eos: number) => [{ decode: tokenizer.decode.bind(tokenizer), eosTokenId: eos }, undefined] as const,
    ],
  ])('stops at the first of %s, which is kept in tokens but not in the text', async (_, setup) => {
    await withModel(dirs.llama, async (model) => {
      const full = await generate(model, tokenizer, PROMPT, greedy());
      const eos = full.tokens[4]!;
      const cut = full.tokens.indexOf(eos) + 1;
      const [decoder, eosTokenIds] = setup(eos);
      const result = await generate(model, decoder ?? tokenizer, PROMPT, {
        ...greedy(),
        eosTokenIds: eosTokenIds ?? undefined,
      });
      expect(result).toEqual({
        tokens: full.tokens.slice(0, cut),
        text: tokenizer.decode(full.tokens.slice(0, cut - 1), { skipSpecialTokens: true }),
        finishReason: 'eos',
      });
    });
  });

  it('returns an empty reply when the very first token ends it (nothing to decode)', async () => {
    await withModel(dirs.llama, async (model) => {
      const full = await generate(model, tokenizer, PROMPT, greedy());
      const result = await generate(model, tokenizer, PROMPT, {
        ...greedy(),
        eosTokenIds: [full.tokens[0]!],
      });
      expect(result).toEqual({ tokens: [full.tokens[0]], text: '', finishReason: 'eos' });
    });
  });

  it('with requireText never ends while the text is blank: the next likeliest token comes instead', async () => {
    await withModel(dirs.llama, async (model) => {
      const full = await generate(model, tokenizer, PROMPT, greedy());
      const eos = full.tokens[0]!;
      const result = await generate(model, tokenizer, PROMPT, {
        ...greedy(),
        eosTokenIds: [eos],
        requireText: true,
      });
      expect(result.tokens[0]).not.toBe(eos);
      expect(result.text.trim()).not.toBe('');
      // The runner-up of the first step's own distribution, not a fresh draw.
      const logits = model.forward(PROMPT);
      const last = logits.slice([PROMPT.length - 1, 0], [1, -1]);
      const row = Float32Array.from(last.dataSync());
      tf.dispose([logits, last]);
      row[eos] = Number.NEGATIVE_INFINITY;
      expect(result.tokens[0]).toBe(argmax(row));
    });
  });

  it.each([
    ['one word', (words: string[]) => [words[3]!]],
    ['two words across tokens', (words: string[]) => [`${words[2]} ${words[3]}`]],
    ['the earlier of two', (words: string[]) => [words[5]!, words[3]!]],
  ])('stops before a stop sequence of %s', async (_, stops) => {
    await withModel(dirs.llama, async (model) => {
      const full = await generate(model, tokenizer, PROMPT, greedy());
      const words = full.text.split(' ').filter((w) => w.length > 0);
      expect(words.length).toBeGreaterThan(5);
      const stopSequences = stops(words);
      const cut = Math.min(...stopSequences.map((s) => full.text.indexOf(s)));
      const result = await generate(model, tokenizer, PROMPT, greedy({ stopSequences }));
      expect(result.finishReason).toBe('stop');
      expect(result.text).toBe(full.text.slice(0, cut));
      expect(full.tokens.slice(0, result.tokens.length)).toEqual(result.tokens);
      // The last token completed the stop sequence.
      const decode = (ids: number[]) => tokenizer.decode(ids, { skipSpecialTokens: true });
      expect(stopSequences.some((s) => decode(result.tokens).includes(s))).toBe(true);
      expect(stopSequences.some((s) => decode(result.tokens.slice(0, -1)).includes(s))).toBe(false);
    });
  });

  it('ends with "length" when a stop sequence never appears', async () => {
    await withModel(dirs.llama, async (model) => {
      const result = await generate(model, tokenizer, PROMPT, greedy({ stopSequences: ['never said'] }));
      expect(result.finishReason).toBe('length');
      expect(result.tokens).toHaveLength(16);
    });
  });

  it.each([
    ['length', greedy()],
    ['stop', greedy({ stopSequences: ['.'] })],
    ['sampling', { maxNewTokens: 20, temperature: 2, seed: 4, eosTokenIds: [] }],
  ])('streams one delta per token that concatenate to the text (%s)', async (_, options) => {
    await withModel(dirs.llama, async (model) => {
      const streamed: GeneratedToken[] = [];
      const result = await generate(model, tokenizer, PROMPT, {
        ...options,
        onToken: (t) => streamed.push(t),
      });
      expect(streamed.map((t) => t.id)).toEqual(result.tokens);
      expect(streamed.map((t) => t.delta).join('')).toBe(result.text);
      expect(result.text.length).toBeGreaterThan(0);
    });
  });

  it('streams byte-level text without a broken character at any token boundary', async () => {
    const dir = path.join(root, 'bytes');
    await writeTinyCheckpoint(dir, { architecture: 'llama', vocabSize: 256, seed: 3 });
    const bytes: GenerationTokenizer = { decode: (ids) => new TextDecoder().decode(Uint8Array.from(ids)) };
    const prompt = [...new TextEncoder().encode('héllo wörld 👋')];
    await withModel(dir, async (model) => {
      for (const seed of [1, 2, 3]) {
        const deltas: string[] = [];
        const result = await generate(model, bytes, prompt, {
          maxNewTokens: 40,
          temperature: 1.5,
          seed,
          onToken: (t) => deltas.push(t.delta),
        });
        expect(deltas.join('')).toBe(result.text);
        expect(deltas.slice(0, -1).every((d) => !d.endsWith('\uFFFD'))).toBe(true);
      }
    });
  });

  it('stops at the end of the context', async () => {
    await withModel(dirs.gpt2, async (model) => {
      const prompt = Array.from({ length: 60 }, (_, i) => (i * 7) % 64);
      const result = await generate(model, undefined, prompt, greedy({ maxNewTokens: 30 }));
      // Positions 60..63 take generated tokens; the fifth is predicted at position 63 and never fed.
      expect(result.tokens).toHaveLength(5);
      expect(result.finishReason).toBe('length');
    });
  });

  it('stops at the next token when the signal aborts during generation', async () => {
    await withModel(dirs.llama, async (model) => {
      const controller = new AbortController();
      const full = await generate(model, tokenizer, PROMPT, greedy({ maxNewTokens: 30 }));
      const deltas: string[] = [];
      const result = await generate(model, tokenizer, PROMPT, {
        ...greedy({ maxNewTokens: 30 }),
        signal: controller.signal,
        onToken: (t) => {
          deltas.push(t.delta);
          if (deltas.length === 3) controller.abort();
        },
      });
      expect(result.finishReason).toBe('aborted');
      expect(result.tokens).toEqual(full.tokens.slice(0, 4));
      expect(deltas.join('')).toBe(result.text);
    });
  });

  it('stops within a few steps when a timer aborts between them', async () => {
    await withModel(dirs.llama, async (model) => {
      const controller = new AbortController();
      let started = false;
      const result = await generate(model, undefined, PROMPT, {
        ...greedy({ maxNewTokens: 10_000 }),
        signal: controller.signal,
        onToken: () => {
          if (!started) setTimeout(() => controller.abort(), 0);
          started = true;
        },
      });
      // Without the abort, the end of the context (64) would stop it after 60 tokens.
      expect(result.finishReason).toBe('aborted');
      expect(result.tokens.length).toBeLessThan(10);
    });
  });

  it('generates nothing for an already aborted signal', async () => {
    await withModel(dirs.llama, async (model) => {
      const result = await generate(model, tokenizer, PROMPT, { ...greedy(), signal: AbortSignal.abort() });
      expect(result).toEqual({ text: '', tokens: [], finishReason: 'aborted' });
    });
  });

  it.each([
    ['maxNewTokens 0', PROMPT, { maxNewTokens: 0 }, /maxNewTokens must be an integer >= 1, got 0/],
    ['fractional maxNewTokens', PROMPT, { maxNewTokens: 1.5 }, /maxNewTokens .* got 1\.5/],
    ['an empty prompt', [], {}, /the prompt has no tokens/],
    ['a prompt past the context', Array(65).fill(1), {}, /65 tokens, more than the context length 64/],
    ['a prompt id past the vocabulary', [1, 64], {}, /prompt token 64 is outside the vocabulary \[0, 64\)/],
    ['a negative prompt id', [-1], {}, /prompt token -1 is outside/],
    ['a negative temperature', PROMPT, { temperature: -1 }, /temperature must be/],
    ['top-p 0', PROMPT, { topP: 0 }, /topP must be in/],
    ['a NaN seed', PROMPT, { seed: Number.NaN }, /seed must be a finite number/],
    ['stop sequences without a tokenizer', PROMPT, { stopSequences: ['x'] }, /need a tokenizer/],
  ])('rejects %s before touching the model', async (_, prompt, options, message) => {
    await withModel(dirs.llama, async (model) => {
      const before = tf.memory().numTensors;
      await expect(generate(model, undefined, prompt, { maxNewTokens: 4, ...options })).rejects.toThrow(
        message,
      );
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('rejects an empty stop sequence', async () => {
    await withModel(dirs.llama, async (model) => {
      await expect(generate(model, tokenizer, PROMPT, greedy({ stopSequences: [''] }))).rejects.toThrow(
        /stop sequences must not be empty/,
      );
    });
  });
});

describe('readEosTokenIds', () => {
  it.each([
    ['a number in config.json', { eos_token_id: 2 }, undefined, [2]],
    ['a list in config.json', { eos_token_id: [2, 7] }, undefined, [2, 7]],
    ['both files, deduplicated', { eos_token_id: 2 }, '{"eos_token_id": [7, 2]}', [2, 7]],
    ['null', { eos_token_id: null }, undefined, []],
    ['no field', {}, '{}', []],
    ['negative and fractional ids dropped', { eos_token_id: [-1, 1.5, 3] }, undefined, [3]],
    ['a generation_config.json that is not JSON', { eos_token_id: 4 }, '{', [4]],
  ])('reads %s', async (name, config, generationConfig, expected) => {
    const dir = path.join(root, `eos-${name.replace(/\W+/g, '-')}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', ...config }));
    if (generationConfig !== undefined)
      await writeFile(path.join(dir, 'generation_config.json'), generationConfig);
    expect(await readEosTokenIds(dir)).toEqual(expected);
  });

  it('gives none for a directory without the files', async () => {
    expect(await readEosTokenIds(path.join(root, 'missing'))).toEqual([]);
  });
});
