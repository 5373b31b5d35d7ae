import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ObjectId } from 'mongodb';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataset } from '../../server/datasets/build.js';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { type ComparisonReport, compareVersions, METRICS } from '../../server/evaluate/compare.js';
import { humanSignal } from '../../server/evaluate/human.js';
import {
  renderValidationExamples,
  validationExamplesFor,
  validationLoss,
} from '../../server/evaluate/loss.js';
import { validationConversations } from '../../server/evaluate/validation-split.js';
import { loadModel } from '../../server/ml/architectures/registry.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { writeTinyTokenizer } from '../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { GateError, promoteVersion } from '../../server/registry/promote.js';
import { readExamples } from '../../server/train/examples.js';
import { runTrainingJob, type TrainJobResult } from '../../server/train/job.js';
import { runCli } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { cliEnvSharing, ingestShop, tinyBaseModel } from '../support/pipeline.js';
import { rawTicket } from '../support/support-logs.js';

const replies = [
  'sorry for the delay',
  'it will arrive tomorrow',
  'your refund is sent',
  'please reset your password',
  'an email was sent to your inbox',
  'what is your order number',
  'can i help with your account',
  'your package is late',
  'hello how can i help',
  'thanks for your help',
  'ok bye',
  'you are welcome',
];

describe('comparison report: a new version against the active one', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  let data: { dir: string; cleanup: () => Promise<void> };
  let datasetId: string;
  let base: string;
  let trained: TrainJobResult;
  const small = { rankingCases: 6, samples: 6, maxNewTokens: 6 };

  beforeAll(async () => {
    await tf.setBackend('cpu');
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    data = await tempDataDir();
    base = await tinyBaseModel(data.dir);
    await ingestShop(
      mongo,
      { models, connection },
      Array.from({ length: 40 }, (_, i) =>
        rawTicket(
          `T${i}`,
          ['where is my order', replies[i % replies.length]!, 'thanks', 'you are welcome'],
          new Date(Date.UTC(2024, 0, 1, i)),
        ),
      ).flat(),
    );
    const dataset = await buildDataset(
      { models, dataDir: data.dir },
      { sources: ['shop'] },
      {
        tokenizer: await ChatTokenizer.load(base),
        baseModel: base,
        contextLength: 64,
        systemPrompt: null,
        validationPercent: 40,
      },
    );
    datasetId = dataset._id.toHexString();
    trained = await runTrainingJob(
      { models, dataDir: data.dir },
      { datasetId, loraRank: 4, epochs: 3, learningRate: 0.05, batchSize: 4, seed: 1 },
    );
  });
  afterAll(async () => {
    await mongo.stop();
    await data.cleanup();
  });

  it('scores validation loss on the dataset split with the training loss mask', async () => {
    const dataset = (await models.Dataset.findById(datasetId).lean())!;
    const conversations = await validationConversations(models, datasetId);
    const stored = await readExamples(dataset.artifactPath!, 'validation');
    const tokenizer = await ChatTokenizer.load(trained.modelDir!);
    // Rendering the validation conversations again gives the dataset's own examples, targets included
    // (the dataset also records each example's privacy unit, which scoring does not need).
    expect(
      renderValidationExamples(tokenizer, conversations, {
        systemPrompt: null,
        contextLength: 64,
        minAgentTurns: 1,
      }),
    ).toEqual(stored.map(({ ids, targets }) => ({ ids, targets })));

    const { model } = await loadModel(trained.modelDir!);
    try {
      const start = tf.memory().numTensors;
      const lossData = {
        datasetDir: dataset.artifactPath!,
        baseModel: base,
        systemPrompt: null,
        contextLength: 64,
        minAgentTurns: 1,
        conversations,
      };
      const { examples, tokenization } = await validationExamplesFor(
        lossData,
        trained.modelDir!,
        model,
        tokenizer,
      );
      expect(tokenization).toBe('dataset');
      expect(examples).toEqual(stored);
      const result = await validationLoss(model, examples, tokenization);
      expect(tf.memory().numTensors).toBe(start);
      // The trainer measured the same loss on the same split before merging the adapter.
      expect(result.validationLoss).toBeCloseTo(trained.metrics.validationLoss!, 3);
      expect(result.perplexity).toBeCloseTo(Math.exp(result.validationLoss), 10);
      expect(result.examples).toBe(stored.length);
    } finally {
      model.dispose();
    }
  });

  it('renders the validation conversations again for a model that tokenizes differently', async () => {
    const dataset = (await models.Dataset.findById(datasetId).lean())!;
    const other = path.join(data.dir, 'plain-template');
    await writeTinyCheckpoint(other, { architecture: 'llama', contextLength: 32, seed: 5 });
    await writeTinyTokenizer(other); // no chat template: "User: ..." lines
    const [{ model }, tokenizer] = await Promise.all([loadModel(other), ChatTokenizer.load(other)]);
    try {
      const conversations = await validationConversations(models, datasetId);
      const { examples, tokenization } = await validationExamplesFor(
        {
          datasetDir: dataset.artifactPath!,
          baseModel: base,
          systemPrompt: null,
          contextLength: 64,
          minAgentTurns: 1,
          conversations,
        },
        other,
        model,
        tokenizer,
      );
      expect(tokenization).toBe('rerendered');
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) {
        expect(example.ids.length).toBeLessThanOrEqual(32);
        // Only the agents' replies are targets, as in training: each starts where "Assistant:" ends.
        for (const { start, end } of example.targets) {
          expect(tokenizer.decode(example.ids.slice(0, start))).toMatch(/Assistant\s*:\s*$/);
          expect(tokenizer.decode(example.ids.slice(start, end))).not.toMatch(/User\s*:/);
        }
      }
      expect((await validationLoss(model, examples, tokenization)).tokenization).toBe('rerendered');
    } finally {
      model.dispose();
    }
  });

  it('counts the up/down/corrected ratings of a version’s live replies, zeros with n = 0 for none', async () => {
    const at = new Date(Date.UTC(2024, 5, 1));
    const message = (
      role: 'customer' | 'bot',
      text: string,
      modelVersion: string | null,
      rating?: string,
    ) => ({
      _id: new ObjectId(),
      role,
      text,
      ts: at,
      modelVersion,
      rating: rating
        ? { value: rating, by: new ObjectId(), at, correction: rating === 'corrected' ? 'ok' : null }
        : null,
    });
    await models.Conversation.create([
      {
        status: 'closed',
        startedAt: at,
        lastMessageAt: at,
        messages: [
          message('customer', 'hi', null),
          message('bot', 'hello', 'v1', 'up'),
          message('bot', 'hello again', 'v1', 'up'),
          message('bot', 'bye', 'v1', 'down'),
          message('bot', 'unrated', 'v1'),
          message('bot', 'other version', 'v9', 'down'),
        ],
      },
      {
        status: 'closed',
        startedAt: at,
        lastMessageAt: at,
        messages: [message('customer', 'hi', null), message('bot', 'hullo', 'v1', 'corrected')],
      },
    ]);
    expect(await humanSignal(models, 'v1')).toEqual({
      n: 4,
      replies: 5,
      up: 2,
      down: 1,
      corrected: 1,
      upRate: 0.5,
      downRate: 0.25,
      correctedRate: 0.25,
    });
    expect(await humanSignal(models, 'v7')).toMatchObject({ n: 0, replies: 0, upRate: 0, downRate: 0 });
    expect(await humanSignal(models, null)).toMatchObject({ n: 0, upRate: 0 });
  });

  it('compares a fresh candidate with its base model from the CLI when none is active, and stores the report', async () => {
    const env = cliEnvSharing(mongo, connection, data.dir);
    const result = await runCli(
      [
        'eval',
        'compare',
        trained.version!,
        '--samples',
        '6',
        '--ranking-cases',
        '6',
        '--max-new-tokens',
        '6',
      ],
      env,
    );
    expect(result.stderr).toMatch(/compare: /);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as ComparisonReport;
    expect(report.version).toBe('v1');
    expect(report.against).toEqual({ kind: 'base', version: null, versionId: null, artifactPath: base });
    expect(Object.keys(report.metrics)).toEqual(Object.keys(METRICS));
    for (const row of Object.values(report.metrics)) {
      if (row.new !== null && row.against !== null) expect(row.delta).toBeCloseTo(row.new - row.against, 10);
      else expect(row.delta).toBeNull();
    }
    // Trained on these agents' replies, the candidate predicts them better than the base does.
    expect(report.metrics.validationLoss.delta!).toBeLessThan(0);
    expect(report.metrics.perplexity.new).toBeCloseTo(Math.exp(report.metrics.validationLoss.new!), 6);
    expect(report.evaluations.new.ranking?.n).toBe(6);
    expect(report.evaluations.new.generation.n).toBe(6);
    expect(report.evaluations.new.generation.meanReplyTokens).toBeLessThanOrEqual(6);
    expect(report.metrics.humanUpRate).toMatchObject({ new: 0.5, against: null, delta: null });
    expect(report.examples).toHaveLength(6);
    for (const example of report.examples) {
      expect(example.context.length).toBeGreaterThan(0);
      expect(example.reference).not.toBe('');
      expect(typeof example.against).toBe('string');
      expect(typeof example.new).toBe('string');
    }

    const stored = (await models.ModelVersion.findOne({ version: 'v1' }).lean())!;
    expect((stored.comparison as ComparisonReport).metrics).toEqual(report.metrics);
    expect(stored.metrics).toMatchObject({
      trainLoss: trained.metrics.trainLoss,
      validationLoss: report.metrics.validationLoss.new,
      perplexity: report.metrics.perplexity.new,
      ranking: report.evaluations.new.ranking,
    });
    const listed = JSON.parse((await runCli(['versions', '--json'], env)).stdout);
    expect(listed.find((v: { version: string }) => v.version === 'v1').comparison).toMatchObject({
      against: base,
      againstKind: 'base',
    });
    const table = (await runCli(['versions'], env)).stdout;
    expect(table).toMatch(
      new RegExp(`^v1 .*val loss \\d\\.\\d{4} +R@1 \\d\\.\\d{3} +compared with ${base}`, 'm'),
    );
  });

  it('gates promotion on the report made against the active version, over stale stored metrics', async () => {
    const tolerances = { loss: 0.02, r1: 1 };
    await promoteVersion(models, 'v1', { tolerances, actor: { kind: 'cli' } });
    // An untrained copy of the base, registered as a candidate.
    await models.ModelVersion.create({
      version: 'v2',
      artifactPath: base,
      baseModel: base,
      datasetId: new ObjectId(datasetId),
    });
    const report = await compareVersions(models, 'v2', small);
    expect(report.against).toMatchObject({ kind: 'version', version: 'v1' });
    expect(report.metrics.validationLoss.delta!).toBeGreaterThan(0);
    expect(report.examples.map((e) => e.against)).toEqual(
      (await models.ModelVersion.findOne({ version: 'v1' }).lean())!.comparison!.examples.map(
        (e: { new: string }) => e.new,
      ),
    );
    // Metrics that claim better do not get past the report.
    await models.ModelVersion.updateOne({ version: 'v2' }, { $set: { 'metrics.validationLoss': 0.001 } });
    const blocked = await promoteVersion(models, 'v2', { tolerances, actor: { kind: 'cli' } }).catch(
      (error: unknown) => error,
    );
    expect(blocked).toBeInstanceOf(GateError);
    expect((blocked as GateError).failures[0]).toMatch(/validation loss/);

    await promoteVersion(models, 'v2', {
      tolerances,
      override: 'testing the report',
      actor: { kind: 'cli' },
    });
    const audit = await models.AuditEvent.findOne({ action: 'version.promote.override' }).lean();
    expect(audit?.details).toMatchObject({ version: 'v2', previous: 'v1', gateSource: 'comparison' });
  });

  it.each([
    ['an unknown version', 'v9', {}, /No model version v9/],
    ['an unknown model to compare against', 'v1', { against: '/nowhere' }, /No model version \/nowhere/],
    ['an unknown dataset', 'v1', { datasetId: 'abc' }, /No dataset abc/],
    ['a version without a dataset', 'v3', {}, /has no dataset/],
  ])('refuses %s', async (_what, version, options, message) => {
    await models.ModelVersion.updateOne(
      { version: 'v3' },
      { $setOnInsert: { artifactPath: base, baseModel: base } },
      { upsert: true },
    );
    await expect(compareVersions(models, version, options)).rejects.toThrow(message);
  });

  it('says what is wrong on stderr from the CLI, with nothing on stdout', async () => {
    const result = await runCli(['eval', 'compare', 'v9'], cliEnvSharing(mongo, connection, data.dir));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/No model version v9/);
    expect(result.stdout).toBe('');
  });
});
