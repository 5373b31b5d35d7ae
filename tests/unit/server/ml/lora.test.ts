import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../../server/ml/architectures/registry.js';
import { type Architecture, type ModelConfig, readModelConfig } from '../../../../server/ml/config.js';
import { createLoraModel, LoraAdapter, type LoraOptions } from '../../../../server/ml/lora.js';
import { weightName } from '../../../../server/ml/lora-modules.js';
import { type Checkpoint, loadCheckpoint } from '../../../../server/ml/safetensors.js';
import {
  type TinyCheckpointOptions,
  writeTinyCheckpoint,
} from '../../../../server/ml/testing/tiny-checkpoint.js';
import { referenceGpt2Logits } from './reference/gpt2.js';
import { referenceLlamaLogits } from './reference/llama.js';
import { referenceDelta, referenceMergedWeights } from './reference/lora.js';

let root: string;
let count = 0;
beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-lora-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const IDS = [5, 17, 42, 0, 63, 17, 8, 30];

interface Base {
  dir: string;
  config: ModelConfig;
  checkpoint: Checkpoint;
}

async function tinyBase(options: TinyCheckpointOptions): Promise<Base> {
  const dir = path.join(root, `m${count++}`);
  await writeTinyCheckpoint(dir, { seed: 3, ...options });
  return { dir, config: await readModelConfig(dir), checkpoint: await loadCheckpoint(dir) };
}

function rows(logits: tf.Tensor2D): number[][] {
  const values = logits.arraySync();
  logits.dispose();
  return values;
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (const [i, r] of a.entries())
    for (const [j, v] of r.entries()) max = Math.max(max, Math.abs(v - b[i]![j]!));
  return max;
}

/** Sets every B to seeded noise so that the adapter changes the model. */
function randomizeB(adapter: LoraAdapter, seed = 7): void {
  for (const [i, pair] of adapter.pairs.entries()) {
    tf.tidy(() => pair.b.assign(tf.randomNormal(pair.b.shape, 0, 0.5, 'float32', seed + i)));
  }
}

/** Runs `body` and checks that it leaves no tensor behind. */
async function noLeaks<T>(body: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await body();
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

async function baseLogits(base: Base): Promise<number[][]> {
  const { model } = await loadModel(base.dir);
  try {
    return rows(model.forward(IDS));
  } finally {
    model.dispose();
  }
}

function loraLogits(base: Base, adapter: LoraAdapter, ids = IDS): number[][] {
  const model = createLoraModel(base.config, base.checkpoint, adapter);
  try {
    return rows(model.forward(ids));
  } finally {
    model.dispose();
  }
}

const ARCHS: [Architecture, LoraOptions][] = [
  ['llama', {}],
  ['llama', { targetModules: 'all-linear', r: 4, alpha: 8 }],
  ['qwen2', { targetModules: ['k_proj', 'o_proj', 'down_proj'], r: 2, alpha: 5 }],
  ['gpt2', {}],
  ['gpt2', { targetModules: 'all-linear', r: 3, alpha: 1 }],
];

describe('LoRA forward', () => {
  it.each(ARCHS)(
    '%s %j: with B = 0 the logits equal the base model exactly',
    async (architecture, options) => {
      const base = await tinyBase({ architecture });
      const expected = await baseLogits(base);
      await noLeaks(() => {
        const adapter = LoraAdapter.create(base.config, options);
        try {
          expect(maxAbsDiff(loraLogits(base, adapter), expected)).toBe(0);
        } finally {
          adapter.dispose();
        }
      });
    },
  );

  it.each(ARCHS)(
    '%s %j: with random B the logits match a float64 reference on W + (alpha/r)·B·A, and differ from the base',
    async (architecture, options) => {
      const base = await tinyBase({ architecture });
      const raw = JSON.parse(await readFile(path.join(base.dir, 'config.json'), 'utf-8'));
      const expectedBase = await baseLogits(base);
      await noLeaks(() => {
        const adapter = LoraAdapter.create(base.config, { ...options, seed: 11 });
        try {
          randomizeB(adapter);
          const actual = loraLogits(base, adapter);
          const pairs = adapter.pairs.map((p) => ({
            weightName: weightName(p.module, true),
            fanInFanOut: p.module.fanInFanOut,
            a: p.a.arraySync(),
            b: p.b.arraySync(),
          }));
          const merged = referenceMergedWeights(base.checkpoint, pairs, adapter.scaling);
          const reference =
            architecture === 'gpt2'
              ? referenceGpt2Logits(raw, merged, IDS)
              : referenceLlamaLogits(raw, merged, IDS);
          expect(maxAbsDiff(actual, reference)).toBeLessThan(5e-5);
          expect(maxAbsDiff(actual, expectedBase)).toBeGreaterThan(1e-2);
        } finally {
          adapter.dispose();
        }
      });
    },
  );

  it.each<[Architecture, string, number, number]>([
    ['llama', 'model.layers.1.self_attn.q_proj', 4, 8],
    ['llama', 'model.layers.0.self_attn.v_proj', 1, 3],
    ['gpt2', 'transformer.h.1.attn.c_attn', 2, 2],
  ])(
    '%s %s: the delta equals x·Aᵀ·Bᵀ·(alpha/r) in float64 (r %d, alpha %d)',
    async (architecture, name, r, alpha) => {
      const base = await tinyBase({ architecture });
      await noLeaks(() => {
        const adapter = LoraAdapter.create(base.config, { r, alpha, seed: 5 });
        try {
          randomizeB(adapter);
          const pair = adapter.pairs.find((p) => p.module.name === name)!;
          const x = tf.randomNormal([5, pair.module.inDim], 0, 1, 'float32', 2) as tf.Tensor2D;
          const delta = adapter.delta(name, x)!;
          const expected = referenceDelta(x.arraySync(), pair.a.arraySync(), pair.b.arraySync(), alpha / r);
          expect(delta.shape).toEqual([5, pair.module.outDim]);
          expect(maxAbsDiff(rows(delta), expected)).toBeLessThan(1e-5);
          expect(Math.max(...expected.flat().map(Math.abs))).toBeGreaterThan(0.1);
          x.dispose();
        } finally {
          adapter.dispose();
        }
      });
    },
  );

  it.each<[Architecture, number[]]>([
    ['llama', [3, 1, 1, 3]],
    ['gpt2', [1, 1, 1, 1, 1, 1, 1, 1]],
  ])(
    '%s: decoding chunks %j through the KV cache with an adapter equals the full pass',
    async (architecture, chunks) => {
      const base = await tinyBase({ architecture });
      await noLeaks(() => {
        const adapter = LoraAdapter.create(base.config, { targetModules: 'all-linear', seed: 3 });
        const model = createLoraModel(base.config, base.checkpoint, adapter);
        try {
          randomizeB(adapter);
          const full = rows(model.forward(IDS));
          const cache = model.createCache();
          const stepped: number[][] = [];
          let at = 0;
          for (const size of chunks) {
            stepped.push(...rows(model.forwardWithCache(IDS.slice(at, at + size), cache)));
            at += size;
          }
          cache.dispose();
          expect(maxAbsDiff(stepped, full)).toBeLessThan(1e-5);
        } finally {
          model.dispose();
          adapter.dispose();
        }
      });
    },
  );

  it('an untargeted module gets no delta', async () => {
    const base = await tinyBase({ architecture: 'llama' });
    await noLeaks(() => {
      const adapter = LoraAdapter.create(base.config);
      const x = tf.ones([2, 32]) as tf.Tensor2D;
      expect(adapter.delta('model.layers.0.self_attn.k_proj', x)).toBeUndefined();
      x.dispose();
      adapter.dispose();
    });
  });
});

describe('LoRA initialisation and parameters', () => {
  it('A is uniform within ±1/sqrt(in) and not constant, B is zero (PEFT init)', async () => {
    const base = await tinyBase({ architecture: 'llama', intermediateSize: 64 });
    await noLeaks(() => {
      const adapter = LoraAdapter.create(base.config, { targetModules: ['q_proj', 'down_proj'], r: 8 });
      try {
        for (const { module, a, b } of adapter.pairs) {
          const values = a.dataSync();
          const bound = 1 / Math.sqrt(module.inDim);
          expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
          expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.8 * bound);
          expect(a.shape).toEqual([8, module.inDim]);
          expect(b.shape).toEqual([module.outDim, 8]);
          expect(b.dataSync().every((v) => v === 0)).toBe(true);
        }
      } finally {
        adapter.dispose();
      }
    });
  });

  it.each<[number, number, boolean]>([
    [7, 7, true],
    [7, 8, false],
  ])('A from seed %d equals A from seed %d: %s', async (s1, s2, same) => {
    const base = await tinyBase({ architecture: 'gpt2' });
    await noLeaks(() => {
      const first = LoraAdapter.create(base.config, { seed: s1 });
      const second = LoraAdapter.create(base.config, { seed: s2 });
      const equal = first.pairs.every((p, i) =>
        tf.tidy(() => p.a.equal(second.pairs[i]!.a).all().dataSync()[0] === 1),
      );
      expect(equal).toBe(same);
      first.dispose();
      second.dispose();
    });
  });

  it('the LoRA variables are the only trainable parameters and B gets a nonzero gradient', async () => {
    const base = await tinyBase({ architecture: 'qwen2' });
    await noLeaks(() => {
      const variablesBefore = Object.keys(tf.engine().registeredVariables).length;
      const adapter = LoraAdapter.create(base.config, { targetModules: 'all-linear', r: 2 });
      const model = createLoraModel(base.config, base.checkpoint, adapter);
      try {
        const trainable = Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
        expect(Object.keys(tf.engine().registeredVariables).length - variablesBefore).toBe(2 * 7 * 2);
        // r (in + out) per module: q, o 2·64; k, v 2·48; gate, up, down 2·96; two layers.
        expect(adapter.parameterCount).toBe(2 * (2 * 128 + 2 * 96 + 3 * 192));
        expect(new Set(adapter.variables)).toEqual(
          new Set(trainable.filter((v) => adapter.variables.includes(v))),
        );
        expect(trainable.filter((v) => !adapter.variables.includes(v))).toEqual([]);
        const { value, grads } = tf.variableGrads(() => model.forward(IDS).square().mean() as tf.Scalar);
        expect(Object.keys(grads).length).toBe(adapter.variables.length);
        const bGrad = grads[adapter.pairs[0]!.b.name]!;
        expect(tf.tidy(() => bGrad.abs().max().dataSync()[0])).toBeGreaterThan(0);
        tf.dispose([value, ...Object.values(grads)]);
      } finally {
        model.dispose();
        adapter.dispose();
      }
    });
  });

  it.each<[string, LoraOptions, number]>([
    ['training with dropout 0.5 changes the delta', { dropout: 0.5 }, 1],
    ['training without dropout leaves the delta alone', { dropout: 0 }, 0],
  ])('%s; inference never drops', async (_, options, differs) => {
    const base = await tinyBase({ architecture: 'gpt2' });
    await noLeaks(() => {
      const adapter = LoraAdapter.create(base.config, options);
      try {
        randomizeB(adapter);
        const name = 'transformer.h.0.attn.c_attn';
        const x = tf.randomNormal([6, 32], 0, 1, 'float32', 4) as tf.Tensor2D;
        const inference = rows(adapter.delta(name, x)!);
        adapter.training = true;
        const training = rows(tf.tidy(() => adapter.delta(name, x)!));
        adapter.training = false;
        expect(maxAbsDiff(rows(adapter.delta(name, x)!), inference)).toBe(0);
        if (differs) expect(maxAbsDiff(training, inference)).toBeGreaterThan(1e-3);
        else expect(maxAbsDiff(training, inference)).toBe(0);
        x.dispose();
      } finally {
        adapter.dispose();
      }
    });
  });
});

describe('LoRA targets and settings', () => {
  it.each<[Architecture, LoraOptions['targetModules'], string[]]>([
    ['llama', undefined, ['self_attn.q_proj', 'self_attn.v_proj']],
    ['qwen2', ['gate_proj'], ['mlp.gate_proj']],
    [
      'llama',
      'all-linear',
      [
        'self_attn.q_proj',
        'self_attn.k_proj',
        'self_attn.v_proj',
        'self_attn.o_proj',
        'mlp.gate_proj',
        'mlp.up_proj',
        'mlp.down_proj',
      ],
    ],
    ['gpt2', undefined, ['attn.c_attn']],
    ['gpt2', ['c_proj'], ['attn.c_proj', 'mlp.c_proj']],
    ['gpt2', ['mlp.c_proj'], ['mlp.c_proj']],
    ['gpt2', 'all-linear', ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']],
  ])('%s with targets %j adapts %j in every layer', async (architecture, targetModules, perLayer) => {
    const base = await tinyBase({ architecture });
    const adapter = LoraAdapter.create(base.config, { targetModules });
    const prefix = architecture === 'gpt2' ? 'transformer.h' : 'model.layers';
    const expected = [0, 1].flatMap((i) => perLayer.map((m) => `${prefix}.${i}.${m}`));
    expect(adapter.pairs.map((p) => p.module.name).sort()).toEqual(expected.sort());
    adapter.dispose();
  });

  it.each<[string, Architecture, LoraOptions, RegExp]>([
    [
      'a target that matches nothing',
      'gpt2',
      { targetModules: ['q_proj'] },
      /"q_proj" matches no linear module/,
    ],
    ['no targets', 'llama', { targetModules: [] }, /at least one target/],
    ['rank 0', 'llama', { r: 0 }, /rank r must be a positive integer/],
    ['a fractional rank', 'llama', { r: 1.5 }, /rank r must be a positive integer/],
    ['a negative alpha', 'llama', { alpha: -1 }, /lora_alpha must be positive/],
    ['dropout 1', 'llama', { dropout: 1 }, /lora_dropout must be in \[0, 1\)/],
  ])('creating an adapter with %s fails and leaves no tensor', async (_, architecture, options, message) => {
    const base = await tinyBase({ architecture });
    await noLeaks(() => {
      expect(() => LoraAdapter.create(base.config, options)).toThrow(message);
    });
  });

  it('an adapter built for other dimensions refuses to attach', async () => {
    const small = await tinyBase({ architecture: 'llama', hiddenSize: 16 });
    const big = await tinyBase({ architecture: 'llama' });
    await noLeaks(() => {
      const adapter = LoraAdapter.create(small.config);
      expect(() => createLoraModel(big.config, big.checkpoint, adapter)).toThrow(
        /model\.layers\.0\.self_attn\.q_proj \[16 -> 16\] does not fit/,
      );
      adapter.dispose();
    });
  });
});
