import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURE_REGISTRY, loadModel } from '../../../../server/ml/architectures/registry.js';
import { type Architecture, readModelConfig } from '../../../../server/ml/config.js';
import { exportModel, LINEAGE_FILE, type Lineage } from '../../../../server/ml/export.js';
import { createLoraModel, LoraAdapter, type LoraOptions } from '../../../../server/ml/lora.js';
import { checkpointFromTensors, mergeLoraWeights } from '../../../../server/ml/lora-merge.js';
import {
  type Dtype,
  decodeToFloat32,
  encodeFromFloat32,
  loadCheckpoint,
  parseSafetensors,
  writeSafetensors,
} from '../../../../server/ml/safetensors.js';
import {
  type TinyCheckpointOptions,
  writeTinyCheckpoint,
} from '../../../../server/ml/testing/tiny-checkpoint.js';
import { writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';

let root: string;
let count = 0;
beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-export-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const IDS = [5, 17, 42, 0, 63, 17, 8, 30];
const fresh = () => path.join(root, `d${count++}`);
const LINEAGE: Lineage = {
  baseModel: 'org/tiny-base',
  dataSnapshot: 'snap-2026-11-27-abc123',
  hyperParameters: { r: 4, alpha: 8, learningRate: 2e-4, epochs: 3 },
  privacy: { epsilon: 3, delta: 1e-6 },
  metrics: { evalLoss: 1.25 },
};

async function tinyBase(options: TinyCheckpointOptions): Promise<string> {
  const dir = fresh();
  await writeTinyCheckpoint(dir, { seed: 3, ...options });
  return dir;
}

async function adapterFor(base: string, options: LoraOptions = {}): Promise<LoraAdapter> {
  const adapter = LoraAdapter.create(await readModelConfig(base), { seed: 2, r: 4, alpha: 8, ...options });
  for (const [i, p] of adapter.pairs.entries()) {
    tf.tidy(() => p.b.assign(tf.randomNormal(p.b.shape, 0, 0.5, 'float32', 60 + i)));
  }
  return adapter;
}

async function logitsOf(dir: string): Promise<number[][]> {
  const { model } = await loadModel(dir);
  try {
    const logits = model.forward(IDS);
    const values = logits.arraySync();
    logits.dispose();
    return values;
  } finally {
    model.dispose();
  }
}

const storedFile = async (dir: string) =>
  parseSafetensors(await readFile(path.join(dir, 'model.safetensors')));

describe('exporting a model directory', () => {
  it.each<[Architecture, Partial<TinyCheckpointOptions>, LoraOptions]>([
    ['llama', {}, {}],
    ['qwen2', { dtype: 'BF16' }, { targetModules: 'all-linear' }],
    ['gpt2', { dtype: 'F16' }, { targetModules: 'all-linear' }],
  ])(
    '%s %j with adapter %j exported in f32 reloads with bit-exact merged weights and identical logits',
    async (architecture, extra, loraOptions) => {
      const base = await tinyBase({ architecture, ...extra });
      const out = fresh();
      const before = tf.memory().numTensors;
      const adapter = await adapterFor(base, loraOptions);
      const config = await readModelConfig(base);
      const checkpoint = await loadCheckpoint(base);
      try {
        const merged = mergeLoraWeights(checkpoint, adapter);
        const result = await exportModel({
          baseDir: base,
          outDir: out,
          adapter,
          dtype: 'F32',
          lineage: LINEAGE,
        });
        expect(result.dtype).toBe('F32');

        const exported = await loadCheckpoint(out);
        expect(exported.names().sort()).toEqual(Object.keys(merged).sort());
        for (const [name, t] of Object.entries(merged)) {
          expect(exported.stored.get(name)!.dtype).toBe('F32');
          expect(exported.get(name).data, name).toEqual(t.data);
        }
        const inMemory = ARCHITECTURE_REGISTRY[architecture](config, checkpointFromTensors(merged, 'merged'));
        const unmerged = createLoraModel(config, checkpoint, adapter);
        const expected = inMemory.forward(IDS);
        const viaAdapter = unmerged.forward(IDS);
        const actual = await logitsOf(out);
        expect(actual).toEqual(expected.arraySync());
        expect(tf.tidy(() => tf.tensor(actual).sub(viaAdapter).abs().max().dataSync()[0])).toBeLessThan(1e-5);
        tf.dispose([expected, viaAdapter]);
        inMemory.dispose();
        unmerged.dispose();
        expect(JSON.parse(await readFile(path.join(out, 'config.json'), 'utf-8')).torch_dtype).toBe(
          'float32',
        );
      } finally {
        adapter.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it.each<[Architecture, Dtype, Dtype | undefined, string]>([
    ['llama', 'BF16', undefined, 'bfloat16'],
    ['gpt2', 'F16', undefined, 'float16'],
    ['qwen2', 'F32', 'BF16', 'bfloat16'],
    ['llama', 'F32', 'F16', 'float16'],
  ])(
    '%s from a %s base exported as %s (undefined: the base dtype) stores the merged values rounded once, and re-exporting is byte-identical',
    async (architecture, baseDtype, dtype, torchDtype) => {
      const base = await tinyBase({ architecture, dtype: baseDtype });
      const out = fresh();
      const before = tf.memory().numTensors;
      const adapter = await adapterFor(base);
      try {
        const merged = mergeLoraWeights(await loadCheckpoint(base), adapter);
        const result = await exportModel({ baseDir: base, outDir: out, adapter, dtype, lineage: LINEAGE });
        const stored = result.dtype;
        expect(JSON.parse(await readFile(path.join(out, 'config.json'), 'utf-8')).torch_dtype).toBe(
          torchDtype,
        );
        const file = await storedFile(out);
        for (const [name, t] of Object.entries(merged)) {
          const tensor = file.tensors.get(name)!;
          expect(tensor.dtype).toBe(stored);
          expect(decodeToFloat32(tensor.bytes, tensor.dtype), name).toEqual(
            decodeToFloat32(encodeFromFloat32(t.data, stored), stored),
          );
        }
        const again = fresh();
        await exportModel({ baseDir: out, outDir: again, lineage: LINEAGE });
        expect(await readFile(path.join(again, 'model.safetensors'))).toEqual(
          await readFile(path.join(out, 'model.safetensors')),
        );
        expect(await logitsOf(again)).toEqual(await logitsOf(out));
      } finally {
        adapter.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it.each<[string, TinyCheckpointOptions, boolean]>([
    ['a tied llama', { architecture: 'llama', tieWordEmbeddings: true }, false],
    ['a tied qwen2', { architecture: 'qwen2', tieWordEmbeddings: true }, false],
    ['gpt2 (always tied)', { architecture: 'gpt2' }, false],
    ['an untied llama', { architecture: 'llama', tieWordEmbeddings: false }, true],
  ])('%s: lm_head.weight is written only when the embeddings are untied', async (_, options, hasHead) => {
    const base = await tinyBase(options);
    const out = fresh();
    const adapter = await adapterFor(base, { targetModules: 'all-linear' });
    await exportModel({ baseDir: base, outDir: out, adapter, lineage: LINEAGE });
    adapter.dispose();
    const file = await storedFile(out);
    expect(file.tensors.has('lm_head.weight')).toBe(hasHead);
    const embed = options.architecture === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight';
    expect(file.tensors.has(embed)).toBe(true);
    const before = tf.memory().numTensors;
    const { model } = await loadModel(out);
    expect(model.config.tieWordEmbeddings).toBe(!hasHead);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a redundant lm_head.weight in a tied base is dropped, not exported', async () => {
    const base = await tinyBase({ architecture: 'llama', tieWordEmbeddings: true });
    const file = parseSafetensors(await readFile(path.join(base, 'model.safetensors')));
    const tensors = Object.fromEntries(
      [...file.tensors].map(([n, t]) => [n, { shape: t.shape, data: decodeToFloat32(t.bytes, t.dtype) }]),
    );
    tensors['lm_head.weight'] = tensors['model.embed_tokens.weight']!;
    await writeSafetensors(path.join(base, 'model.safetensors'), tensors, 'F32');
    const out = fresh();
    const result = await exportModel({ baseDir: base, outDir: out, lineage: LINEAGE });
    expect(result.tensorNames).not.toContain('lm_head.weight');
    expect((await storedFile(out)).tensors.has('lm_head.weight')).toBe(false);
  });

  it('copies the tokenizer and generation files the base has, writes parley.json as given, and nothing else', async () => {
    const base = await tinyBase({ architecture: 'qwen2' });
    await writeTinyTokenizer(base);
    const generation = { bos_token_id: 1, eos_token_id: 2, do_sample: true, temperature: 0.7 };
    await writeFile(path.join(base, 'generation_config.json'), JSON.stringify(generation));
    const out = fresh();
    const result = await exportModel({ baseDir: base, outDir: out, lineage: LINEAGE });
    expect(result.copiedFiles.sort()).toEqual([
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect((await readdir(out)).sort()).toEqual(
      [
        'config.json',
        'generation_config.json',
        'model.safetensors',
        LINEAGE_FILE,
        'tokenizer.json',
        'tokenizer_config.json',
      ].sort(),
    );
    for (const file of result.copiedFiles) {
      expect(await readFile(path.join(out, file), 'utf-8')).toBe(
        await readFile(path.join(base, file), 'utf-8'),
      );
    }
    expect(JSON.parse(await readFile(path.join(out, LINEAGE_FILE), 'utf-8'))).toEqual(LINEAGE);
    const baseConfig = JSON.parse(await readFile(path.join(base, 'config.json'), 'utf-8'));
    expect(JSON.parse(await readFile(path.join(out, 'config.json'), 'utf-8'))).toEqual(baseConfig);
  });

  it('writes shards with an index when asked, and they reload with the same logits', async () => {
    const base = await tinyBase({ architecture: 'llama' });
    const single = fresh();
    const sharded = fresh();
    await exportModel({ baseDir: base, outDir: single, lineage: LINEAGE });
    await exportModel({ baseDir: base, outDir: sharded, maxShardBytes: 8000, lineage: LINEAGE });
    expect((await readdir(sharded)).filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThan(1);
    expect(await logitsOf(sharded)).toEqual(await logitsOf(single));
  });

  it.each<[string, (base: string) => Promise<string>, RegExp]>([
    [
      'a directory that is not empty',
      async () => {
        const dir = fresh();
        await mkdir(dir);
        await writeFile(path.join(dir, 'notes.txt'), 'keep me');
        return dir;
      },
      /is not empty \(notes\.txt/,
    ],
    ['the base directory itself', async (base) => base, /is the base model directory/],
  ])('refuses to export into %s', async (_, target, message) => {
    const base = await tinyBase({ architecture: 'gpt2' });
    const out = await target(base);
    const before = await readdir(out);
    await expect(exportModel({ baseDir: base, outDir: out, lineage: LINEAGE })).rejects.toThrow(message);
    expect(await readdir(out)).toEqual(before);
  });

  it('a failed export leaves neither the target directory nor a staging directory behind', async () => {
    const base = await tinyBase({ architecture: 'llama' });
    await mkdir(path.join(base, 'tokenizer.json')); // copying a directory as a file fails midway
    const parent = fresh();
    await mkdir(parent);
    const out = path.join(parent, 'model');
    await expect(exportModel({ baseDir: base, outDir: out, lineage: LINEAGE })).rejects.toThrow();
    expect(await readdir(parent)).toEqual([]);
  });

  it('exports into a nested directory that does not exist yet', async () => {
    const base = await tinyBase({ architecture: 'gpt2' });
    const out = path.join(fresh(), 'runs', 'r1');
    await exportModel({ baseDir: base, outDir: out, lineage: LINEAGE });
    expect(await logitsOf(out)).toEqual(await logitsOf(base));
  });
});
