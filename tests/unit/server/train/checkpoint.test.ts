import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ARCHITECTURE_REGISTRY } from '../../../../server/ml/architectures/registry.js';
import { readModelConfig } from '../../../../server/ml/config.js';
import { LoraAdapter } from '../../../../server/ml/lora.js';
import { loadCheckpoint } from '../../../../server/ml/safetensors.js';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';
import { seededRandom } from '../../../../server/seeded-random.js';
import {
  type CheckpointLayout,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  writeCheckpoint,
} from '../../../../server/train/checkpoint.js';
import { loraTrainable } from '../../../../server/train/lora-trainable.js';
import { maskedCrossEntropySum } from '../../../../server/train/loss.js';
import { SeededStream } from '../../../../server/train/random.js';
import {
  type TrainableModel,
  type TrainExample,
  type TrainerSnapshot,
  type TrainOptions,
  train,
} from '../../../../server/train/trainer.js';
import { tempDataDir } from '../../../support/env.js';

/** A real trainable bigram language model: logits of the next token from an embedding of this one. */
function bigramModel(seed: number): TrainableModel & { dispose(): void } {
  const embed = tf.tidy(() => tf.variable(tf.randomNormal([8, 8], 0, 0.1, 'float32', seed), true));
  const out = tf.tidy(() => tf.variable(tf.randomNormal([8, 8], 0, 0.1, 'float32', seed + 1), true));
  return {
    variables: [embed, out],
    exampleLoss: (example) =>
      tf.tidy(() => {
        const logits = tf.matMul(tf.gather(embed, example.ids), out) as tf.Tensor2D; // [T, vocab]
        return maskedCrossEntropySum(logits, example.ids, example.targets);
      }),
    dispose: () => tf.dispose([embed, out]),
  };
}

const sequences = (n: number, offset = 0, vocab = 8): TrainExample[] =>
  Array.from({ length: n }, (_, i) => {
    const ids = Array.from({ length: 5 + (i % 4) }, (_, t) => (i + offset + t) % vocab);
    return { ids, targets: [{ start: 1, end: ids.length }] };
  });

const bigramLayout: CheckpointLayout = {
  names: ['embed', 'out'],
  shapes: [
    [8, 8],
    [8, 8],
  ],
};

interface Run {
  weights: Float32Array[];
  losses: number[];
  validation: (number | null)[];
  finalLoss: number;
  validationLoss: number | null;
}

/**
 * Trains `make()` with `options`; with `stopAt`, cancels at that step, writes the end checkpoint
 * to `dir`, reads it back and resumes in a fresh model. Returns the final weights and the losses
 * of every step, as the run reported them.
 */
async function trainRun(
  make: () => TrainableModel & { dispose(): void },
  layout: (model: TrainableModel) => CheckpointLayout,
  data: { train: TrainExample[]; validation: TrainExample[] },
  options: TrainOptions,
  stop?: { at: number; dir: string },
): Promise<Run> {
  const losses: number[] = [];
  const validation: (number | null)[] = [];
  const onStep = (m: { step: number; loss: number; validationLoss: number | null }) => {
    losses[m.step - 1] = m.loss;
    validation[m.step - 1] = m.validationLoss;
  };
  let model = make();
  if (stop) {
    const controller = new AbortController();
    const first = await train(model, data, options, {
      signal: controller.signal,
      onStep: (m) => {
        onStep(m);
        if (m.step === stop.at) controller.abort();
      },
      onCheckpoint: async (snapshot) => {
        await writeCheckpoint(stop.dir, snapshot, layout(model));
      },
    });
    expect(first).toMatchObject({ cancelled: true, steps: stop.at });
    const saved = await latestCheckpoint(stop.dir);
    expect(saved?.step).toBe(stop.at);
    model.dispose();
    model = make(); // a fresh process would start from a fresh model, too
    const resume = await readCheckpoint(saved!.dir, layout(model));
    const result = await train(model, data, { ...options, resume }, { onStep });
    const weights = model.variables.map((v) => (v.dataSync() as Float32Array).slice());
    model.dispose();
    return {
      weights,
      losses,
      validation,
      finalLoss: result.finalLoss,
      validationLoss: result.validationLoss,
    };
  }
  const result = await train(model, data, options, { onStep });
  const weights = model.variables.map((v) => (v.dataSync() as Float32Array).slice());
  model.dispose();
  return { weights, losses, validation, finalLoss: result.finalLoss, validationLoss: result.validationLoss };
}

describe('training checkpoints', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let start: number;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = await tempDataDir('parley-ckpt-');
  });
  afterAll(async () => {
    await tmp.cleanup();
  });
  beforeEach(() => {
    start = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors).toBe(start);
  });

  it('a seeded stream is the shared generator, and continues from a stored position', () => {
    const reference = seededRandom(42);
    const stream = new SeededStream(42);
    for (let i = 0; i < 5; i += 1) expect(stream.next()).toBe(reference());
    const copy = SeededStream.fromState(stream.position);
    expect([copy.next(), copy.next()]).toEqual([stream.next(), stream.next()]);
    expect(() => SeededStream.fromState(-1)).toThrow(/32-bit/);
    expect(() => SeededStream.fromState(1.5)).toThrow(/32-bit/);
  });

  it.each([
    ['mid-epoch', 5],
    ['at an epoch boundary', 6],
    ['right after an evaluation', 4],
  ])(
    'a run stopped %s and resumed from its checkpoint ends bit for bit like an uninterrupted one',
    async (_when, at) => {
      const data = { train: sequences(12), validation: sequences(4, 3) };
      // 12 examples in batches of 2 = 6 steps an epoch; evaluations every 4 steps, early stopping armed.
      const options: TrainOptions = {
        epochs: 3,
        batchSize: 2,
        learningRate: 0.05,
        seed: 3,
        evalEvery: 4,
        patience: 5,
        maxGradNorm: 1,
      };
      const uninterrupted = await trainRun(
        () => bigramModel(1),
        () => bigramLayout,
        data,
        options,
      );
      const dir = path.join(tmp.dir, `bigram-${at}`);
      const resumed = await trainRun(
        () => bigramModel(1),
        () => bigramLayout,
        data,
        options,
        { at, dir },
      );
      expect(uninterrupted.losses).toHaveLength(18);
      expect(resumed.weights).toEqual(uninterrupted.weights);
      expect(resumed.losses).toEqual(uninterrupted.losses);
      expect(resumed.validation).toEqual(uninterrupted.validation);
      expect(resumed.finalLoss).toBe(uninterrupted.finalLoss);
      expect(resumed.validationLoss).toBe(uninterrupted.validationLoss);
    },
  );

  it('a LoRA run with dropout resumes bit for bit: the masks come from the checkpointed stream', async () => {
    const baseDir = path.join(tmp.dir, 'tiny-llama');
    await writeTinyCheckpoint(baseDir, { architecture: 'llama', contextLength: 32, vocabSize: 16, seed: 2 });
    const config = await readModelConfig(baseDir);
    const checkpoint = await loadCheckpoint(baseDir);
    const make = (dropoutSeed: number) => () => {
      const adapter = LoraAdapter.create(config, { r: 2, alpha: 4, dropout: 0.3, seed: 1 });
      const model = ARCHITECTURE_REGISTRY[config.architecture](config, checkpoint, adapter);
      const trainable = loraTrainable(model, adapter, dropoutSeed);
      const handle = {
        ...trainable,
        dispose: () => {
          model.dispose();
          adapter.dispose();
        },
      };
      return handle;
    };
    const layout = (model: TrainableModel): CheckpointLayout => ({
      names: model.variables.map((_, i) => `v${i}`),
      shapes: model.variables.map((v) => v.shape),
    });
    const data = { train: sequences(8, 0, 16), validation: [] };
    const options: TrainOptions = { epochs: 2, batchSize: 2, learningRate: 0.05, seed: 4 };
    const uninterrupted = await trainRun(make(7), layout, data, options);
    const resumed = await trainRun(make(7), layout, data, options, {
      at: 3,
      dir: path.join(tmp.dir, 'lora'),
    });
    expect(resumed.weights).toEqual(uninterrupted.weights);
    expect(resumed.losses).toEqual(uninterrupted.losses);
    // Dropout is really drawn: another stream seed trains to other weights.
    const otherMasks = await trainRun(make(8), layout, data, options);
    expect(otherMasks.weights).not.toEqual(uninterrupted.weights);
  });

  it('writes whole checkpoints only, keeps the newest few, and replaces one of the same step', async () => {
    const dir = path.join(tmp.dir, 'keep');
    const model = bigramModel(9);
    const snapshots: TrainerSnapshot[] = [];
    await train(
      model,
      { train: sequences(8), validation: [] },
      { epochs: 2, batchSize: 2, learningRate: 0.01, seed: 1, checkpointEvery: 1 },
      {
        onCheckpoint: async (snapshot) => {
          snapshots.push(snapshot);
          await writeCheckpoint(dir, snapshot, bigramLayout, { keep: 2 });
        },
      },
    );
    model.dispose();
    // Every step has one, the last (step 8) twice: once at its step, and as the end checkpoint.
    expect(snapshots.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([7, 8]);
    // A process killed mid-write leaves a partial directory: it is never a checkpoint, and goes.
    await mkdir(path.join(dir, 'checkpoints', '.partial-dead'), { recursive: true });
    expect((await latestCheckpoint(dir))?.step).toBe(8);
    await writeCheckpoint(
      dir,
      { ...snapshots[7]!, loop: { ...snapshots[7]!.loop, sinceBest: 9 } },
      bigramLayout,
      {
        keep: 2,
      },
    );
    expect(await readdir(path.join(dir, 'checkpoints'))).toEqual(['step-00000007', 'step-00000008']);
    const back = await readCheckpoint((await latestCheckpoint(dir))!.dir, bigramLayout);
    expect(back.loop.sinceBest).toBe(9);
    expect(back.variables).toEqual(snapshots[7]!.variables);
    expect(back.optimizer).toEqual(snapshots[7]!.optimizer);
    expect(back.position).toEqual({ epoch: 2, index: 0 });
    const files = await readdir((await latestCheckpoint(dir))!.dir);
    expect(files.sort()).toEqual([
      'adapter_model.safetensors',
      'optimizer.safetensors',
      'trainer_state.json',
    ]);
  });

  it.each([
    [
      'a tensor of another shape',
      {
        names: ['embed', 'out'],
        shapes: [
          [8, 8],
          [4, 16],
        ],
      },
      /expected \[4, 16\]/,
    ],
    [
      'a tensor it does not hold',
      {
        names: ['embed', 'head'],
        shapes: [
          [8, 8],
          [8, 8],
        ],
      },
      /no tensor head/,
    ],
  ])('refuses to resume into %s', async (_what, layout, message) => {
    const dir = path.join(tmp.dir, `refuse-${layout.names[1]}-${layout.shapes[1]![0]}`);
    const model = bigramModel(2);
    await train(
      model,
      { train: sequences(4), validation: [] },
      { epochs: 1, batchSize: 2, learningRate: 0.01, seed: 1 },
      { onCheckpoint: (snapshot) => writeCheckpoint(dir, snapshot, bigramLayout).then(() => undefined) },
    );
    model.dispose();
    const saved = (await latestCheckpoint(dir))!;
    await expect(readCheckpoint(saved.dir, layout)).rejects.toThrow(message);
    const stateFile = path.join(saved.dir, 'trainer_state.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    await writeFile(stateFile, JSON.stringify({ ...state, version: 99 }));
    await expect(readCheckpoint(saved.dir, bigramLayout)).rejects.toThrow(/not a version 1/);
  });

  it('refuses a checkpoint of a run with another number of steps', async () => {
    const model = bigramModel(3);
    let snapshot: TrainerSnapshot | null = null;
    const data = { train: sequences(4), validation: [] };
    await train(
      model,
      data,
      { epochs: 1, batchSize: 2, learningRate: 0.01, seed: 1 },
      {
        onCheckpoint: (s) => {
          snapshot = s;
        },
      },
    );
    await expect(
      train(model, data, { epochs: 2, batchSize: 2, learningRate: 0.01, seed: 1, resume: snapshot! }),
    ).rejects.toThrow(/2-step run, this one has 4 steps/);
    model.dispose();
  });
});
