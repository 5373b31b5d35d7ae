import * as tf from '@tensorflow/tfjs';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels, ensureIndexes } from '../../server/db/models/index.js';
import { noiseForTarget } from '../../server/privacy/dp/calibrate.js';
import { DpOptimizer } from '../../server/privacy/dp/dp-optimizer.js';
import { PrvAccountant } from '../../server/privacy/dp/prv-accountant.js';
import { RdpAccountant } from '../../server/privacy/dp/rdp-accountant.js';
import { seededRng } from '../../server/privacy/dp/rng.js';
import { groupByUnit, sampleBatch } from '../../server/privacy/dp/sampling.js';
import { runCli } from '../support/cli.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { logisticRegression, separableData } from '../unit/server/privacy/dp/models.js';
import { expectNoLeak, useCpuBackend } from '../unit/server/privacy/dp/tensors.js';

/** Runs parley and returns its one JSON line (failing the test if there is not exactly one). */
async function jsonLine(args: string[], vars: Record<string, string> = {}) {
  const result = await runCli(args, vars);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect(result.stdout.endsWith('\n')).toBe(true);
  return JSON.parse(lines[0]!);
}

const epsilonArgs = (q: number, sigma: number, steps: number, delta: number) => [
  'privacy',
  'epsilon',
  '--sample-rate',
  String(q),
  '--noise-multiplier',
  String(sigma),
  '--steps',
  String(steps),
  '--delta',
  String(delta),
];

describe('parley privacy epsilon', () => {
  it('prints the RDP accountant’s ε and optimal order for the Abadi et al. setting', async () => {
    const accountant = new RdpAccountant();
    accountant.step({ noiseMultiplier: 4, sampleRate: 0.01 }, 10_000);
    const expected = accountant.getPrivacySpent(1e-5);
    expect(await jsonLine(epsilonArgs(0.01, 4, 10_000, 1e-5))).toEqual({ ...expected, accountant: 'rdp' });
    expect(expected.epsilon).toBeCloseTo(1.035, 3);
  });

  it('takes --accountant rdp and accepts the edges q = 1 and steps written as 1e3', async () => {
    const out = await jsonLine([...epsilonArgs(1, 2, 1, 1e-6), '--steps', '1e3', '--accountant', 'rdp']);
    const accountant = new RdpAccountant();
    accountant.step({ noiseMultiplier: 2, sampleRate: 1 }, 1000);
    expect(out).toEqual({ ...accountant.getPrivacySpent(1e-6), accountant: 'rdp' });
  });

  it('takes --accountant prv: the tighter PRV bound, with no order', async () => {
    const out = await jsonLine([...epsilonArgs(0.01, 4, 10_000, 1e-5), '--accountant', 'prv']);
    const accountant = new PrvAccountant();
    accountant.step({ noiseMultiplier: 4, sampleRate: 0.01 }, 10_000);
    expect(out).toEqual({ ...accountant.getPrivacySpent(1e-5), accountant: 'prv' });
    expect(out.alpha).toBeNull();
    expect(out.epsilon).toBeLessThan(1.035);
  });

  it.each([
    [['--sample-rate', '0'], /--sample-rate.*sampling rate q in \(0, 1\], got "0"/],
    [['--sample-rate', '1.01'], /sampling rate q in \(0, 1\]/],
    [['--sample-rate', 'often'], /sampling rate q/],
    [['--noise-multiplier', '0'], /noise multiplier σ > 0, got "0"/],
    [['--noise-multiplier', '-1'], /noise multiplier σ > 0/],
    [['--steps', '0'], /positive integer number of steps, got "0"/],
    [['--steps', '2.5'], /positive integer number of steps/],
    [['--delta', '0'], /δ in \(0, 1\), got "0"/],
    [['--delta', '1'], /δ in \(0, 1\)/],
    [['--delta', ''], /δ in \(0, 1\)/],
    [['--accountant', 'moments'], /unknown accountant "moments"; known: rdp, prv/],
  ])('rejects %j with a clear error on stderr and nothing on stdout', async (flags, message) => {
    const result = await runCli([...epsilonArgs(0.01, 1, 100, 1e-5), ...flags], {});
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it('names a missing flag', async () => {
    const result = await runCli(
      ['privacy', 'epsilon', '--sample-rate', '0.01', '--steps', '10', '--delta', '1e-5'],
      {},
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/--noise-multiplier/);
  });
});

describe('parley privacy noise', () => {
  it('prints the smallest σ (within 1%) that meets the target, and its ε', async () => {
    const target = { targetEpsilon: 2, delta: 1e-5, sampleRate: 256 / 60_000, steps: 14_100 };
    const out = await jsonLine([
      'privacy',
      'noise',
      '--target-epsilon',
      '2',
      '--sample-rate',
      String(target.sampleRate),
      '--steps',
      '14100',
      '--delta',
      '1e-5',
    ]);
    expect(out).toEqual(noiseForTarget(target));
    expect(out.epsilon).toBeLessThanOrEqual(2);
    // And `parley privacy epsilon` agrees on that σ.
    expect((await jsonLine(epsilonArgs(target.sampleRate, out.noiseMultiplier, 14_100, 1e-5))).epsilon).toBe(
      out.epsilon,
    );
  });

  it.each([
    [['--target-epsilon', '0.01'], /ε = 0.01 is unreachable at δ = 0.00001/],
    [['--target-epsilon', '0'], /target ε > 0/],
    [['--target-epsilon', 'small'], /target ε > 0/],
  ])('refuses %j clearly', async (flags, message) => {
    const result = await runCli(
      ['privacy', 'noise', '--sample-rate', '0.01', '--steps', '1000', '--delta', '1e-5', ...flags],
      {},
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe('parley privacy ledger', () => {
  let mongo: TestMongo;
  let uri: string;
  let datasetId: string;

  beforeAll(async () => {
    mongo = await startTestMongo();
    const dbName = `parley_ledger_${Date.now()}`;
    const models = bindModels(await mongo.connect(dbName));
    await ensureIndexes(models);
    const source = new Types.ObjectId();
    const dataset = await models.Dataset.create({
      name: 'march',
      sourceIds: [source],
      filters: { since: new Date('2024-03-01') },
    });
    datasetId = String(dataset._id);
    await models.ModelVersion.create([
      {
        version: 'v1',
        artifactPath: 'a',
        baseModel: 'tiny',
        datasetId: dataset._id,
        privacy: { epsilon: 1.5, delta: 1e-6 },
      },
      {
        version: 'v2',
        artifactPath: 'b',
        baseModel: 'tiny',
        datasetId: dataset._id,
        privacy: { epsilon: 0.5, delta: 1e-6 },
      },
    ]);
    // The same server, naming this test's database (the path of the connection string).
    uri = mongo.uri.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${dbName}`);
  });
  afterAll(() => mongo.stop());

  it('prints the cumulative spend and what is left of the budget', async () => {
    const out = await jsonLine(['privacy', 'ledger', '--dataset', datasetId], {
      MONGODB_URI: uri,
      PARLEY_PRIVACY_BUDGET_EPSILON: '5',
    });
    expect(out).toMatchObject({ datasetId, scope: 'snapshot', epsilon: 2, budget: 5, remaining: 3 });
    expect(out.delta).toBeCloseTo(2e-6, 18);
    expect(out.versions.map((v: { version: string }) => v.version)).toEqual(['v1', 'v2']);
  });

  it.each([
    [['--dataset', 'nope'], /24 hex digits/],
    [['--dataset', '0123456789abcdef01234567'], /no dataset 0123456789abcdef01234567/],
    [['--dataset', '0123456789abcdef01234567', '--scope', 'world'], /snapshot or population/],
  ])('refuses %j', async (flags, message) => {
    const result = await runCli(['privacy', 'ledger', ...flags], { MONGODB_URI: uri });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe('DP-SGD demonstration', () => {
  beforeAll(useCpuBackend);

  it.each([
    ['example', 1],
    ['customer', 4],
  ] as const)(
    'with σ = 1, %s-level DP-SGD lowers the loss on separable data, and its ε is what the CLI says',
    async (_, examplesPerCustomer) => {
      const { xs, ys } = separableData(400, 5, 21);
      const units =
        examplesPerCustomer === 1
          ? undefined
          : groupByUnit(xs.length, (i) => Math.floor(i / examplesPerCustomer));
      const unitCount = units?.length ?? xs.length;
      const sampleRate = 0.05;
      const steps = 120;
      let accountant: RdpAccountant | undefined;
      await expectNoLeak(() => {
        const model = logisticRegression(5);
        const optimizer = tf.train.sgd(1);
        const dp = new DpOptimizer({
          optimizer,
          variables: model.variables,
          gradients: { strategy: 'vectorized', loss: model.batchedLoss },
          clipNorm: 1,
          noiseMultiplier: 1,
          sampleRate,
          unitCount,
          accountant: new RdpAccountant(),
          rng: seededRng(2024),
        });
        const allXs = tf.tensor2d(xs);
        const allYs = tf.tensor1d(ys);
        const meanLoss = () => tf.tidy(() => tf.mean(model.loss(allXs, allYs)).dataSync()[0]!);
        const before = meanLoss();
        const sampler = seededRng(99);
        for (let step = 0; step < steps; step++) {
          const batch = sampleBatch({ exampleCount: xs.length, units, sampleRate }, sampler);
          const batchXs = tf.tensor2d(
            batch.examples.map((i) => xs[i]!),
            [batch.examples.length, 5],
          );
          const batchYs = tf.tensor1d(batch.examples.map((i) => ys[i]!));
          dp.step({ xs: batchXs, ys: batchYs, unitIds: batch.unitIds, unitCount: batch.unitCount });
          tf.dispose([batchXs, batchYs]);
        }
        const after = meanLoss();
        expect(before).toBeCloseTo(Math.LN2, 5);
        expect(after).toBeLessThan(0.2);
        accountant = dp.accountant as RdpAccountant;
        tf.dispose([allXs, allYs]);
        optimizer.dispose();
        model.dispose();
      });
      expect(accountant!.history).toEqual([[1, sampleRate, steps]]);
      const ours = accountant!.getPrivacySpent(1e-5);
      expect(await jsonLine(epsilonArgs(sampleRate, 1, steps, 1e-5))).toEqual({ ...ours, accountant: 'rdp' });
    },
  );
});
