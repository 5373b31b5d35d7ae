import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURE_REGISTRY, loadModel } from '../../../../server/ml/architectures/registry.js';
import type { Architecture } from '../../../../server/ml/config.js';
import { readModelConfig } from '../../../../server/ml/config.js';
import { exportModel } from '../../../../server/ml/export.js';
import { modelTensors } from '../../../../server/ml/model-tensors.js';
import { loadCheckpoint } from '../../../../server/ml/safetensors.js';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';
import { fullTrainable } from '../../../../server/train/full-trainable.js';
import { type TrainExample, train } from '../../../../server/train/trainer.js';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'parley-full-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Sequences counting up modulo 16: every next token follows from this one. */
const examples: TrainExample[] = Array.from({ length: 8 }, (_, i) => {
  const ids = Array.from({ length: 12 }, (_, t) => (i + t) % 16);
  return { ids, targets: [{ start: 1, end: ids.length }] };
});

const cases: [Architecture, boolean][] = [
  ['llama', true],
  ['llama', false],
  ['gpt2', true],
];

describe('full fine-tuning', () => {
  it.each(cases)(
    '%s (tied embeddings: %s) trains every weight and exports what it learned',
    async (architecture, tied) => {
      const base = path.join(root, `${architecture}-${tied}`);
      await writeTinyCheckpoint(base, { architecture, tieWordEmbeddings: tied, seed: 5 });
      const config = await readModelConfig(base);
      const model = ARCHITECTURE_REGISTRY[architecture](config, await loadCheckpoint(base), undefined, {
        trainable: true,
      });
      const trainable = fullTrainable(model);
      expect(trainable.variables.length).toBe(model.weights.length);
      const before = await modelTensors(model);

      const result = await train(
        trainable,
        { train: examples, validation: examples.slice(0, 2) },
        {
          epochs: 12,
          batchSize: 4,
          learningRate: 1e-2,
          seed: 1,
        },
      );
      expect(result.validationLoss).not.toBeNull();
      expect(result.finalLoss).toBeLessThan(Math.log(64) * 0.6);

      // Every weight moved, the (tied) embeddings included: gradients reached all of them.
      const after = await modelTensors(model);
      for (const [name, tensor] of Object.entries(after)) {
        const moved = tensor.data.some((v, i) => v !== before[name]!.data[i]);
        expect(moved, name).toBe(true);
      }

      // Saved in the Hugging Face layout and loaded back, the model computes the same logits.
      const out = path.join(root, `${architecture}-${tied}-out`);
      await exportModel({
        baseDir: base,
        outDir: out,
        weights: after,
        dtype: 'F32',
        lineage: { baseModel: base },
      });
      const { model: reloaded } = await loadModel(out);
      const ids = examples[0]!.ids;
      const expected = model.forward(ids);
      const actual = reloaded.forward(ids);
      expect(Array.from(actual.dataSync())).toEqual(
        Array.from(expected.dataSync()).map((v) => expect.closeTo(v, 4)),
      );
      tf.dispose([expected, actual]);
      reloaded.dispose();
      model.dispose();
    },
  );

  it('refuses a model whose weights are not variables', async () => {
    const base = path.join(root, 'frozen');
    await writeTinyCheckpoint(base, { architecture: 'llama' });
    const { model } = await loadModel(base);
    expect(() => fullTrainable(model)).toThrow(/build the model with \{ trainable: true \}/);
    model.dispose();
  });
});
