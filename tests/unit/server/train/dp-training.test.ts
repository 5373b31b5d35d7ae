import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAccountant } from '../../../../server/privacy/dp/registry.js';
import { seededRng } from '../../../../server/privacy/dp/rng.js';
import { privatizedGradients } from '../../../../server/train/dp-step.js';
import { maskedCrossEntropySum } from '../../../../server/train/loss.js';
import { dpPlan, privacyUnits } from '../../../../server/train/plans.js';
import { type TrainableModel, type TrainExample, train } from '../../../../server/train/trainer.js';

function bigramModel(seed: number): TrainableModel & { dispose(): void } {
  const embed = tf.tidy(() =>
    tf.variable(tf.randomNormal([8, 8], 0, 0.1, 'float32', seed), true, `dpEmbed${seed}`),
  );
  const out = tf.tidy(() =>
    tf.variable(tf.randomNormal([8, 8], 0, 0.1, 'float32', seed + 1), true, `dpOut${seed}`),
  );
  return {
    variables: [embed, out],
    exampleLoss: (example) =>
      tf.tidy(() =>
        maskedCrossEntropySum(
          tf.matMul(tf.gather(embed, example.ids), out) as tf.Tensor2D,
          example.ids,
          example.targets,
        ),
      ),
    dispose: () => tf.dispose([embed, out]),
  };
}

const examples = (n: number): TrainExample[] =>
  Array.from({ length: n }, (_, i) => {
    const ids = Array.from({ length: 6 }, (_, t) => (i + t) % 8);
    return { ids, targets: [{ start: 1, end: 6 }] };
  });

function norm(tensors: tf.Tensor[]): number {
  let squares = 0;
  for (const tensor of tensors) {
    const sum = tf.tidy(() => tf.sum(tf.square(tensor)));
    squares += sum.dataSync()[0]!;
    sum.dispose();
  }
  return Math.sqrt(squares);
}

describe('DP-SGD in the trainer', () => {
  let start: number;
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  beforeEach(() => {
    start = tf.memory().numTensors;
  });
  afterEach(() => {
    expect(tf.memory().numTensors).toBe(start);
  });

  it('without noise and with a loose bound, is the summed gradient over the expected batch size', async () => {
    const model = bigramModel(1);
    const batch = examples(3);
    const { grads } = await privatizedGradients(model, batch, 10, {
      noiseMultiplier: 0,
      clipNorm: 1e6,
      sampleRate: 0.3,
      rng: seededRng(1),
    });
    const direct = tf.variableGrads(
      () => tf.addN(batch.map((e) => model.exampleLoss(e, true))) as tf.Scalar,
      model.variables,
    );
    for (const [i, variable] of model.variables.entries()) {
      const difference = tf.tidy(
        () => tf.max(tf.abs(tf.sub(grads[i]!, tf.div(direct.grads[variable.name]!, 3)))).dataSync()[0],
      );
      expect(difference).toBeLessThan(1e-5);
    }
    tf.dispose([direct.value, ...Object.values(direct.grads), ...grads]);
    model.dispose();
  });

  it('bounds each example’s contribution by the clip norm', async () => {
    const model = bigramModel(2);
    const batch = examples(5);
    const clipNorm = 0.01;
    const { grads } = await privatizedGradients(model, batch, 5, {
      noiseMultiplier: 0,
      clipNorm,
      sampleRate: 1,
      rng: seededRng(1),
    });
    expect(norm(grads)).toBeLessThanOrEqual((batch.length * clipNorm) / 5 + 1e-6);
    tf.dispose(grads);
    model.dispose();
  });

  it('at customer level, clips all of a customer’s examples together: one customer moves the model by at most C', async () => {
    const model = bigramModel(2);
    const clipNorm = 0.01;
    // One customer wrote all five conversations; example-level DP lets them count five times.
    const batch = examples(5).map((example) => ({ ...example, unit: 'cust_a' }));
    const settings = { noiseMultiplier: 0, clipNorm, sampleRate: 1, rng: seededRng(1) };
    const customer = await privatizedGradients(model, batch, 1, { ...settings, unit: 'customer' });
    const perExample = await privatizedGradients(model, batch, 1, { ...settings, unit: 'example' });
    expect(norm(customer.grads)).toBeLessThanOrEqual(clipNorm + 1e-6);
    expect(norm(perExample.grads)).toBeGreaterThan(2 * clipNorm);
    expect(customer.lossSum).toBeCloseTo(perExample.lossSum, 4);
    tf.dispose([...customer.grads, ...perExample.grads]);
    model.dispose();
  });

  it('at customer level, samples customers: a step takes all of a sampled customer’s examples', () => {
    const train = [
      ...examples(3).map((e) => ({ ...e, unit: 'a' })),
      ...examples(1).map((e) => ({ ...e, unit: 'b' })),
      ...examples(2).map((e) => ({ ...e, unit: 'c' })),
    ];
    const units = privacyUnits(train, 'customer');
    expect(units.map((u) => u.length)).toEqual([3, 1, 2]);
    expect(privacyUnits(train, 'example')).toHaveLength(6);
    const plan = dpPlan(train, 1, {
      unit: 'customer',
      noiseMultiplier: 1,
      clipNorm: 1,
      sampleRate: 0.5,
      rng: seededRng(3),
      accountant: createAccountant('rdp'),
    });
    for (const step of plan.steps()) {
      const counts = new Map<string, number>();
      for (const e of step.examples) counts.set(e.unit!, (counts.get(e.unit!) ?? 0) + 1);
      for (const [unit, count] of counts) expect(count).toBe(units.find((u) => u[0]!.unit === unit)!.length);
    }
  });

  it('adds noise even to an empty batch, with std σC/(qN)', async () => {
    const model = bigramModel(3);
    const { grads } = await privatizedGradients(model, [], 100, {
      noiseMultiplier: 2,
      clipNorm: 0.5,
      sampleRate: 0.1,
      rng: seededRng(7),
    });
    const values = grads.flatMap((g) => Array.from(g.dataSync()));
    const std = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
    expect(std).toBeGreaterThan(0.1 * 0.8);
    expect(std).toBeLessThan(0.1 * 1.2); // σC/(qN) = 2·0.5/(0.1·100) = 0.1
    tf.dispose(grads);
    model.dispose();
  });

  it('takes epochs/q Poisson steps, records each with the accountant, and still learns', async () => {
    const model = bigramModel(4);
    const accountant = createAccountant('rdp');
    const data = { train: examples(40), validation: examples(8) };
    const losses: number[] = [];
    const result = await train(
      model,
      data,
      {
        epochs: 4,
        batchSize: 8,
        learningRate: 0.05,
        seed: 1,
        dp: { noiseMultiplier: 0.5, clipNorm: 1, sampleRate: 0.2, rng: seededRng(3), accountant },
      },
      { onStep: (m) => losses.push(m.loss) },
    );
    expect(result.steps).toBe(20);
    const reference = createAccountant('rdp');
    reference.step({ noiseMultiplier: 0.5, sampleRate: 0.2 }, 20);
    expect(accountant.getEpsilon(1e-5)).toBeCloseTo(reference.getEpsilon(1e-5), 10);
    expect(result.validationLoss!).toBeLessThan(Math.log(8));
    model.dispose();
  });
});
