import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStarterModel, STARTER_RECIPE, type StarterRecipe } from '../../../seed/starter/recipe.js';
import { loadModel } from '../../../server/ml/architectures/registry.js';
import { ChatTokenizer } from '../../../server/ml/tokenizer.js';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'parley-recipe-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** The shipped recipe, shrunk to run in seconds. */
const tiny: StarterRecipe = {
  ...STARTER_RECIPE,
  vocabSize: 320,
  hiddenSize: 32,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  intermediateSize: 64,
  contextLength: 64,
  windowLength: 32,
  batchSize: 8,
  epochs: 3,
  dialoguesPerCorpus: 2,
  learningRate: 2e-2,
};

describe('the starter model recipe', () => {
  it('builds a Hugging Face model directory whose chat template and weights load, and whose loss falls', async () => {
    const outDir = path.join(root, 'starter');
    const losses: number[] = [];
    const result = await buildStarterModel({
      outDir,
      recipe: tiny,
      saveEvery: 4,
      onStep: (m) => losses.push(m.loss),
    });
    expect((await readdir(outDir)).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(losses.length).toBeGreaterThan(5);
    expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0]! - 0.5);
    expect(result.validationLoss).not.toBeNull();

    const tokenizer = await ChatTokenizer.load(outDir);
    const text = 'Hello! Could I get your name, please? Ça va 🙂';
    expect(tokenizer.decode(tokenizer.encode(text, { addSpecialTokens: false }))).toBe(text); // byte-level: any text
    const chat = tokenizer.encodeChat([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ]);
    expect(tokenizer.decode(chat)).toBe(
      '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n',
    );
    expect(tokenizer.eosTokenId).toBe(2);

    const { model } = await loadModel(outDir);
    expect(model.config.vocabSize).toBeLessThanOrEqual(tiny.vocabSize);
    const logits = model.forward(chat.slice(0, 10));
    expect(logits.shape).toEqual([10, model.config.vocabSize]);
    logits.dispose();
    model.dispose();
  }, 180_000);
});
