import { cp, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOnnxExport } from '../../../../server/ml/onnx/export.js';
import { installStarterModel } from '../../../../server/ml/starter.js';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';
import { loadLiveModel, ModelLoadError, replyWith } from '../../../../server/serving/served-model.js';
import type { ReplyRequest } from '../../../../server/serving/types.js';

let root: string;
let llama: string;
let gpt2: string;

const REQUEST: ReplyRequest = {
  turns: [{ role: 'customer', text: 'hello my order is late' }],
  systemPrompt: 'be helpful',
  maxNewTokens: 10,
  sampling: { temperature: 0.8, topP: 0.9 },
  seed: 11,
};

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-serving-runtime-'));
  llama = path.join(root, 'llama');
  gpt2 = path.join(root, 'gpt2');
  await writeTinyCheckpoint(llama, { architecture: 'llama', contextLength: 64, seed: 3 });
  await writeTinyTokenizer(llama, { chatTemplate: CHATML_TEMPLATE });
  await writeTinyCheckpoint(gpt2, { architecture: 'gpt2', contextLength: 64, seed: 4 });
  await writeTinyTokenizer(gpt2);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the live model runtime', () => {
  it('auto serves llama on ONNX Runtime, exported into the version, with the reply tfjs gives', async () => {
    const dir = path.join(root, 'auto-llama');
    await cp(llama, dir, { recursive: true });
    const onnx = await loadLiveModel(dir, { runtime: 'auto', tfjsBackend: 'cpu' });
    const tfjs = await loadLiveModel(dir, { runtime: 'tfjs' });
    try {
      expect(onnx.runtime).toBe('onnx');
      expect(onnx.notice).toBeNull();
      expect(await exists(path.join(dir, 'onnx', 'model.onnx'))).toBe(true);
      expect(tfjs.runtime).toBe('tfjs');
      const deltas: string[] = [];
      const viaOnnx = await replyWith(onnx, REQUEST, { onDelta: (d) => deltas.push(d) });
      const viaTfjs = await replyWith(tfjs, REQUEST);
      expect(viaOnnx.text).toBe(viaTfjs.text);
      expect(viaOnnx.tokens).toBe(viaTfjs.tokens);
      expect(viaOnnx.confidence).toBeCloseTo(viaTfjs.confidence, 4);
      expect(deltas.join('')).toBe(viaOnnx.text);
    } finally {
      onnx.dispose();
      tfjs.dispose();
    }
  });

  it('tfjs writes no ONNX export', async () => {
    const dir = path.join(root, 'tfjs-only');
    await cp(llama, dir, { recursive: true });
    const served = await loadLiveModel(dir, { runtime: 'tfjs' });
    served.dispose();
    expect(await readdir(dir)).not.toContain('onnx');
  });

  it.each([
    ['a GPU backend', 'llama', { tfjsBackend: 'webgpu' }, null],
    ['gpt2', 'gpt2', { tfjsBackend: 'cpu' }, /does not serve gpt2/],
  ] as const)('auto keeps tfjs for %s', async (_, model, options, notice) => {
    const served = await loadLiveModel(model === 'llama' ? llama : gpt2, { runtime: 'auto', ...options });
    served.dispose();
    expect(served.runtime).toBe('tfjs');
    if (notice) expect(served.notice).toMatch(notice);
    else expect(served.notice).toBeNull();
  });

  it('auto falls back to tfjs, saying why, when the export cannot be written', async () => {
    const dir = path.join(root, 'blocked');
    await cp(llama, dir, { recursive: true });
    await writeFile(path.join(dir, 'onnx'), 'a file where the onnx folder goes');
    const served = await loadLiveModel(dir, { runtime: 'auto', tfjsBackend: 'cpu' });
    served.dispose();
    expect(served.runtime).toBe('tfjs');
    expect(served.notice).toMatch(/ONNX Runtime could not load the version/);
  });

  it('onnx refuses what it cannot export instead of falling back', async () => {
    await expect(loadLiveModel(gpt2, { runtime: 'onnx' })).rejects.toBeInstanceOf(ModelLoadError);
    await expect(loadLiveModel(gpt2, { runtime: 'onnx' })).rejects.toThrow(/supports llama and qwen2/);
  });

  it("serves the shipped starter model (float16 weights) on ONNX Runtime with tfjs's replies", async () => {
    const dir = path.join(root, 'starter');
    await installStarterModel(dir);
    const onnx = await loadLiveModel(dir, { runtime: 'onnx' });
    const tfjs = await loadLiveModel(dir, { runtime: 'tfjs' });
    try {
      for (const seed of [1, 2]) {
        const request = { ...REQUEST, maxNewTokens: 24, seed };
        const [viaOnnx, viaTfjs] = [await replyWith(onnx, request), await replyWith(tfjs, request)];
        expect(viaOnnx.text).toBe(viaTfjs.text);
        expect(viaOnnx.confidence).toBeCloseTo(viaTfjs.confidence, 3);
      }
    } finally {
      onnx.dispose();
      tfjs.dispose();
    }
  });

  it('exports once when several workers load the same version at the same time', async () => {
    const dir = path.join(root, 'concurrent');
    await cp(llama, dir, { recursive: true });
    const results = await Promise.all([1, 2, 3].map(() => ensureOnnxExport(dir)));
    expect(results.filter((r) => r.exported)).toHaveLength(1);
    expect(await readdir(path.join(dir, 'onnx'))).toEqual(['model.onnx', 'parley-onnx.json']);
  });
});
