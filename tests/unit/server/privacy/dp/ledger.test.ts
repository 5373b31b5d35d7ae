import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels, ensureIndexes, type Models } from '../../../../../server/db/models/index.js';
import type { VERSION_STATUSES } from '../../../../../server/db/models/model-version.js';
import { EnvError, loadEnv } from '../../../../../server/env.js';
import {
  assertWithinBudget,
  cumulativeSpend,
  datasetsOverlap,
  PrivacyBudgetExceededError,
  privacyBudgetFromEnv,
} from '../../../../../server/privacy/dp/ledger.js';
import { startTestMongo, type TestMongo } from '../../../../support/mongo.js';

const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
const source1 = new Types.ObjectId();
const source2 = new Types.ObjectId();
const range = (sourceIds: Types.ObjectId[], since: string | null, until: string | null) => ({
  sourceIds,
  filters: { since: since ? day(since) : null, until: until ? day(until) : null },
});

describe('datasetsOverlap', () => {
  it.each([
    [
      'overlapping ranges of one source',
      range([source1], '2024-01-01', '2024-03-31'),
      range([source1], '2024-03-01', '2024-06-30'),
      true,
    ],
    [
      'ranges that touch on a day',
      range([source1], '2024-01-01', '2024-03-01'),
      range([source1], '2024-03-01', '2024-06-30'),
      true,
    ],
    [
      'an open start',
      range([source1], null, '2024-02-01'),
      range([source1], '2024-01-15', '2024-06-30'),
      true,
    ],
    ['two fully open ranges', range([source1], null, null), range([source1], null, null), true],
    [
      'one shared source of several',
      range([source1, source2], '2024-01-01', null),
      range([source2], null, null),
      true,
    ],
    [
      'disjoint ranges of one source',
      range([source1], '2024-01-01', '2024-03-31'),
      range([source1], '2024-04-01', '2024-06-30'),
      false,
    ],
    [
      'an open end before the other starts',
      range([source1], null, '2023-12-31'),
      range([source1], '2024-01-01', null),
      false,
    ],
    [
      'different sources, same dates',
      range([source1], '2024-01-01', null),
      range([source2], '2024-01-01', null),
      false,
    ],
    ['a dataset without sources', range([], null, null), range([source1], null, null), false],
  ])('%s: %s', (_, a, b, expected) => {
    expect(datasetsOverlap(a, b)).toBe(expected);
    expect(datasetsOverlap(b, a)).toBe(expected);
  });

  it('the population view ignores dates but not sources', () => {
    const jan = range([source1], '2024-01-01', '2024-01-31');
    const jun = range([source1], '2024-06-01', '2024-06-30');
    expect(datasetsOverlap(jan, jun, 'snapshot')).toBe(false);
    expect(datasetsOverlap(jan, jun, 'population')).toBe(true);
    expect(datasetsOverlap(jan, range([source2], null, null), 'population')).toBe(false);
  });
});

describe('the privacy ledger (MongoDB)', () => {
  let mongo: TestMongo;
  let models: Models;
  const ids: Record<string, Types.ObjectId> = {};

  async function dataset(
    name: string,
    sourceIds: Types.ObjectId[],
    since: string | null,
    until: string | null,
  ) {
    const doc = await models.Dataset.create({
      name,
      status: 'ready',
      sourceIds,
      filters: range(sourceIds, since, until).filters,
    });
    ids[name] = doc._id;
  }

  async function version(
    label: string,
    datasetName: string,
    privacy: { epsilon: number | null; delta: number | null; unit?: 'example' | 'customer' },
    status: (typeof VERSION_STATUSES)[number] = 'candidate',
  ) {
    await models.ModelVersion.create({
      version: label,
      status,
      artifactPath: `models/${label}`,
      baseModel: 'tiny',
      datasetId: ids[datasetName],
      privacy: {
        accountant: privacy.epsilon === null ? null : 'rdp',
        noiseMultiplier: privacy.epsilon === null ? null : 1.1,
        sampleRate: privacy.epsilon === null ? null : 0.01,
        steps: privacy.epsilon === null ? null : 1000,
        clipNorm: privacy.epsilon === null ? null : 1,
        unit: privacy.unit ?? (privacy.epsilon === null ? null : 'example'),
        ...privacy,
      },
    });
  }

  beforeAll(async () => {
    mongo = await startTestMongo();
    models = bindModels(await mongo.connect());
    await ensureIndexes(models);
    // Source 1: Q1, then Feb–Apr (overlaps Q1), then June (overlaps neither). Source 2: all year.
    await dataset('q1', [source1], '2024-01-01', '2024-03-31');
    await dataset('feb-apr', [source1], '2024-02-01', '2024-04-30');
    await dataset('june', [source1], '2024-06-01', '2024-06-30');
    await dataset('other', [source2], null, null);
    await version('v1', 'q1', { epsilon: 1, delta: 1e-6 });
    await version('v2', 'feb-apr', { epsilon: 2, delta: 1e-6 }, 'active');
    await version('v3', 'june', { epsilon: 0.5, delta: 1e-7, unit: 'customer' });
    await version('v4', 'other', { epsilon: 3, delta: 1e-5 });
    await version('v5', 'q1', { epsilon: null, delta: null }); // trained without DP: not in the ledger
    await version('v6', 'q1', { epsilon: 0.25, delta: 1e-6 }, 'failed');
  });
  afterAll(() => mongo.stop());

  it('keeps the mechanism in the model version', async () => {
    const v1 = await models.ModelVersion.findOne({ version: 'v1' }).lean();
    expect(v1!.privacy).toEqual({
      epsilon: 1,
      delta: 1e-6,
      accountant: 'rdp',
      noiseMultiplier: 1.1,
      sampleRate: 0.01,
      steps: 1000,
      clipNorm: 1,
      unit: 'example',
    });
  });

  it.each(['household', 'EXAMPLE'])('refuses the privacy unit %j', async (unit) => {
    const doc = new models.ModelVersion({
      version: 'bad',
      artifactPath: 'x',
      baseModel: 'tiny',
      privacy: { unit },
    });
    await expect(doc.validate()).rejects.toThrow(/unit/);
  });

  it('sums every version trained on overlapping data, failed ones included, by basic composition', async () => {
    const spent = await cumulativeSpend(models, ids.q1!);
    expect(spent.versions.map((v) => v.version)).toEqual(['v1', 'v2', 'v6']);
    expect(spent.epsilon).toBeCloseTo(3.25, 12);
    expect(spent.delta).toBeCloseTo(3e-6, 18);
    expect(spent.datasetIds.sort()).toEqual([String(ids.q1), String(ids['feb-apr'])].sort());
    expect(spent.versions[0]).toMatchObject({
      version: 'v1',
      status: 'candidate',
      accountant: 'rdp',
      unit: 'example',
    });
    // v5 trained on q1 without DP: listed apart, since no sum can account for it.
    expect(spent.nonPrivateVersions).toEqual(['v5']);
  });

  it('does not count data that cannot overlap: other dates, other sources', async () => {
    const june = await cumulativeSpend(models, ids.june!);
    expect(june.versions.map((v) => v.version)).toEqual(['v3']);
    expect(june.nonPrivateVersions).toEqual([]);
    expect((await cumulativeSpend(models, ids.other!)).epsilon).toBe(3);
  });

  it('the population view counts every dataset of the same source, whatever the dates', async () => {
    const spent = await cumulativeSpend(models, ids.june!, { scope: 'population' });
    expect(spent.versions.map((v) => v.version).sort()).toEqual(['v1', 'v2', 'v3', 'v6']);
    expect(spent.epsilon).toBeCloseTo(3.75, 12);
  });

  it('names a dataset it cannot find', async () => {
    const missing = new Types.ObjectId();
    await expect(cumulativeSpend(models, missing)).rejects.toThrow(`no dataset ${missing}`);
  });

  describe('the budget', () => {
    it('lets a run start while the total stays within the budget', async () => {
      const spent = await assertWithinBudget(
        models,
        { datasetId: ids.q1!, epsilon: 0.75, delta: 1e-6 },
        { epsilon: 4 },
      );
      expect(spent.epsilon).toBeCloseTo(3.25, 12);
      await expect(
        assertWithinBudget(models, { datasetId: ids.june!, epsilon: 3.5, delta: 1e-6 }, { epsilon: 4 }),
      ).resolves.toBeDefined();
    });

    it('refuses a run that would pass the budget, saying what was spent, by whom, and what to do', async () => {
      const attempt = assertWithinBudget(
        models,
        { datasetId: ids['feb-apr']!, epsilon: 1, delta: 1e-6 },
        { epsilon: 4 },
      );
      await expect(attempt).rejects.toThrow(PrivacyBudgetExceededError);
      await expect(attempt).rejects.toThrow(
        /this run would spend ε = 1 .* on top of ε = 3.25 already spent by v1, v2, v6; the total ε = 4.25 is over PARLEY_PRIVACY_BUDGET_EPSILON = 4/,
      );
    });

    it('checks a customer-level run against the whole customer population of its sources', async () => {
      const run = { datasetId: ids.june!, epsilon: 1, delta: 1e-6 };
      await expect(
        assertWithinBudget(models, { ...run, unit: 'example' }, { epsilon: 4 }),
      ).resolves.toBeDefined();
      await expect(assertWithinBudget(models, { ...run, unit: 'customer' }, { epsilon: 4 })).rejects.toThrow(
        /population view/,
      );
    });

    it('never refuses without a budget', async () => {
      await expect(
        assertWithinBudget(models, { datasetId: ids.q1!, epsilon: 1000, delta: 1e-6 }, {}),
      ).resolves.toBeDefined();
    });

    it.each([Number.NaN, -1, Infinity])('refuses to plan a run with ε = %d', async (epsilon) => {
      await expect(
        assertWithinBudget(models, { datasetId: ids.q1!, epsilon, delta: 1e-6 }, { epsilon: 4 }),
      ).rejects.toThrow(/finite ε/);
    });

    it('comes from PARLEY_PRIVACY_BUDGET_EPSILON, unset meaning no cap', () => {
      expect(privacyBudgetFromEnv(loadEnv({}))).toEqual({});
      expect(privacyBudgetFromEnv(loadEnv({ PARLEY_PRIVACY_BUDGET_EPSILON: '8' }))).toEqual({ epsilon: 8 });
    });

    it.each(['0', '-2', 'lots'])('rejects PARLEY_PRIVACY_BUDGET_EPSILON=%s', (value) => {
      expect(() => loadEnv({ PARLEY_PRIVACY_BUDGET_EPSILON: value })).toThrow(EnvError);
      expect(() => loadEnv({ PARLEY_PRIVACY_BUDGET_EPSILON: value })).toThrow(
        /PARLEY_PRIVACY_BUDGET_EPSILON/,
      );
    });
  });
});
