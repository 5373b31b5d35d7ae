import { mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../../../server/ml/architectures/registry.js';
import type { CausalLM } from '../../../../../server/ml/architectures/types.js';
import { generate } from '../../../../../server/ml/generate.js';
import { ensureOnnxExport, exportOnnx, OnnxExportError } from '../../../../../server/ml/onnx/export.js';
import { decode, ModelProto } from '../../../../../server/ml/onnx/proto.js';
import { OnnxDecoder } from '../../../../../server/ml/onnx/session.js';
import { writeTinyCheckpoint } from '../../../../../server/ml/testing/tiny-checkpoint.js';
import { writeTinyTokenizer } from '../../../../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer } from '../../../../../server/ml/tokenizer.js';

const TOLERANCE = 1e-4;
const PROMPT = [8, 10, 11, 12, 13, 9, 14];

let root: string;
const models: Record<'llama' | 'qwen2', { dir: string; model: CausalLM; onnx: OnnxDecoder }> = {} as never;

/** Rows of `logits` [T, V] from tfjs as one Float32Array. */
function tfRows(logits: tf.Tensor2D): Float32Array {
  const data = logits.dataSync() as Float32Array;
  logits.dispose();
  return data;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-onnx-'));
  for (const [i, architecture] of (['llama', 'qwen2'] as const).entries()) {
    const dir = path.join(root, architecture);
    // Untied llama (its own lm_head), tied qwen2: both lm_head paths of the graph.
    await writeTinyCheckpoint(dir, {
      architecture,
      seed: 40 + i,
      tieWordEmbeddings: architecture === 'qwen2',
    });
    await writeTinyTokenizer(dir);
    await exportOnnx(dir);
    models[architecture] = { dir, model: (await loadModel(dir)).model, onnx: await OnnxDecoder.load(dir) };
  }
});
afterAll(async () => {
  for (const m of Object.values(models)) {
    m.model.dispose();
    await m.onnx.dispose();
  }
  await rm(root, { recursive: true, force: true });
});

describe.each(['llama', 'qwen2'] as const)('ONNX export of a tiny %s', (architecture) => {
  it("gives the logits of Parley's tfjs forward at every position", async () => {
    const { model, onnx } = models[architecture];
    const before = tf.memory().numTensors;
    const expected = tfRows(model.forward(PROMPT));
    const actual = await onnx.forward(PROMPT, onnx.createCache());
    expect(maxAbsDiff(actual, expected)).toBeLessThan(TOLERANCE);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('decodes with past key values exactly as a full recompute, and as the tfjs KV cache', async () => {
    const { model, onnx } = models[architecture];
    const before = tf.memory().numTensors;
    const full = tfRows(model.forward(PROMPT));
    const vocab = model.config.vocabSize;
    const cache = onnx.createCache();
    const tfCache = model.createCache();
    tfRows(model.forwardWithCache(PROMPT.slice(0, 4), tfCache));
    await onnx.forward(PROMPT.slice(0, 4), cache);
    for (let t = 4; t < PROMPT.length; t++) {
      const step = await onnx.forward([PROMPT[t]!], cache, { lastOnly: true });
      expect(cache.length).toBe(t + 1);
      expect(maxAbsDiff(step, full.slice(t * vocab, (t + 1) * vocab))).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(step, tfRows(model.forwardWithCache([PROMPT[t]!], tfCache)))).toBeLessThan(TOLERANCE);
    }
    tfCache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the exported graph', () => {
  it('keeps only the last num_logits_to_keep rows of logits', async () => {
    const { onnx } = models.llama;
    const vocab = onnx.config.vocabSize;
    const all = await onnx.forward(PROMPT, onnx.createCache());
    const last = await onnx.forward(PROMPT, onnx.createCache(), { lastOnly: true });
    expect(last.length).toBe(vocab);
    expect(maxAbsDiff(last, all.slice(-vocab))).toBe(0);
  });

  it('masks left padding in a batch: a padded row gives the logits of the same tokens alone', async () => {
    const { dir, model } = models.llama;
    const session = await ort.InferenceSession.create(path.join(dir, 'onnx', 'model.onnx'));
    const short = PROMPT.slice(0, 4);
    const pad = PROMPT.length - short.length;
    const rows = [PROMPT, [...Array(pad).fill(0), ...short]];
    const mask = [PROMPT.map(() => 1), [...Array(pad).fill(0), ...short.map(() => 1)]];
    const positions = [PROMPT.map((_, i) => i), [...Array(pad).fill(1), ...short.map((_, i) => i)]];
    const i64 = (m: number[][]) =>
      new ort.Tensor('int64', BigInt64Array.from(m.flat(), BigInt), [2, PROMPT.length]);
    const { numLayers, numKvHeads, headDim, vocabSize } = model.config;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: i64(rows),
      attention_mask: i64(mask),
      position_ids: i64(positions),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
    };
    for (let i = 0; i < numLayers; i++) {
      for (const kind of ['key', 'value']) {
        feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [
          2,
          numKvHeads,
          0,
          headDim,
        ]);
      }
    }
    const logits = (await session.run(feeds)).logits!.data as Float32Array;
    await session.release();
    const perRow = PROMPT.length * vocabSize;
    const alone = tfRows(model.forward(short));
    expect(maxAbsDiff(logits.slice(perRow + pad * vocabSize, 2 * perRow), alone)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(logits.slice(0, perRow), tfRows(model.forward(PROMPT)))).toBeLessThan(TOLERANCE);
  });

  it('is an opset-17 ModelProto with standard ONNX ops only', async () => {
    const bytes = await readFile(path.join(models.llama.dir, 'onnx', 'model.onnx'));
    const model = decode(ModelProto, bytes) as {
      opsetImport: { domain?: string; version: number }[];
      graph: { node: { opType: string; domain?: string }[] };
    };
    expect(model.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(model.graph.node.every((n) => !n.domain)).toBe(true);
  });
});

describe("Parley's generate() on ONNX Runtime", () => {
  it.each([
    ['greedy', { temperature: 0 }],
    ['seeded sampling', { temperature: 0.9, topP: 0.95, seed: 5 }],
  ] as const)('picks the tokens tfjs picks (%s)', async (_, sampling) => {
    const { model, onnx } = models.qwen2;
    const tokenizer = await ChatTokenizer.load(models.llama.dir);
    const options = { maxNewTokens: 10, eosTokenIds: [], ...sampling };
    const viaOnnx = await generate(onnx, tokenizer, PROMPT, options);
    const viaTfjs = await generate(model, tokenizer, PROMPT, options);
    expect(viaOnnx.tokens).toEqual(viaTfjs.tokens);
    expect(viaOnnx.tokens).toHaveLength(10);
  });
});

describe('transformers.js', () => {
  it("loads the exported directory from disk alone and generates Parley's greedy tokens", async () => {
    const { dir, model } = models.llama;
    const tokenizer = await ChatTokenizer.load(dir);
    env.allowRemoteModels = false;
    env.localModelPath = `${path.dirname(dir)}${path.sep}`;
    const hf = await AutoModelForCausalLM.from_pretrained(path.basename(dir), {
      local_files_only: true,
      dtype: 'fp32',
      device: 'cpu',
    });
    const maxNewTokens = 12;
    const parley = await generate(model, tokenizer, PROMPT, { maxNewTokens, temperature: 0 });
    const sequences = (await hf.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(PROMPT, BigInt), [1, PROMPT.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(PROMPT.length).fill(1n), [1, PROMPT.length]),
      max_new_tokens: maxNewTokens,
      do_sample: false,
      eos_token_id: tokenizer.eosTokenId,
    })) as Tensor;
    const generated = Array.from(sequences.data as BigInt64Array, Number).slice(PROMPT.length);
    expect(parley.tokens.length).toBeGreaterThan(1);
    expect(generated).toEqual(parley.tokens);
    await hf.dispose();
  });
});

describe('ensureOnnxExport', () => {
  it('exports once, reuses the export, and redoes it when the weights change', async () => {
    const dir = path.join(root, 'cached');
    await writeTinyCheckpoint(dir, { architecture: 'llama', seed: 7 });
    expect((await ensureOnnxExport(dir)).exported).toBe(true);
    expect((await ensureOnnxExport(dir)).exported).toBe(false);
    const later = new Date(Date.now() + 5_000);
    await utimes(path.join(dir, 'model.safetensors'), later, later);
    expect((await ensureOnnxExport(dir)).exported).toBe(true);
  });

  it('refuses gpt2 with a message naming what it supports', async () => {
    const dir = path.join(root, 'gpt2');
    await writeTinyCheckpoint(dir, { architecture: 'gpt2', seed: 9 });
    await expect(exportOnnx(dir)).rejects.toThrow(OnnxExportError);
    await expect(exportOnnx(dir)).rejects.toThrow(/supports llama and qwen2/);
  });
});
