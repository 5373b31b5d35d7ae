import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataset } from '../../server/datasets/build.js';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { rankCases } from '../../server/evaluate/ranking.js';
import { loadModel } from '../../server/ml/architectures/registry.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { runTrainingJob } from '../../server/train/job.js';
import { runCli } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { cliEnvSharing, ingestShop, tinyBaseModel } from '../support/pipeline.js';
import { rawTicket } from '../support/support-logs.js';

describe('LoRA fine-tuning jobs', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  let data: { dir: string; cleanup: () => Promise<void> };
  let base: string;
  let datasetId: string;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    data = await tempDataDir();
    base = await tinyBaseModel(data.dir, 3);
    await ingestShop(
      mongo,
      { models, connection },
      Array.from({ length: 16 }, (_, i) =>
        rawTicket(
          `T${i}`,
          ['where is my order', 'sorry for the delay it will arrive tomorrow'],
          new Date(Date.UTC(2024, 0, 1 + i)),
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
        validationPercent: 25,
      },
    );
    datasetId = dataset._id.toHexString();
  });
  afterAll(async () => {
    await mongo.stop();
    await data.cleanup();
  });

  it('learns the agents’ replies and registers a merged model version with its lineage', async () => {
    const start = tf.memory().numTensors;
    const losses: number[] = [];
    const result = await runTrainingJob(
      { models, dataDir: data.dir, backend: 'cpu' },
      { datasetId, loraRank: 4, epochs: 6, learningRate: 0.05, batchSize: 4, seed: 1 },
      { onStep: (m) => losses.push(m.loss) },
    );
    expect(tf.memory().numTensors).toBe(start);
    expect(result.status).toBe('succeeded');
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.6);
    expect(result.metrics.validationLoss!).toBeLessThan(losses[0]!);

    for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'parley.json'])
      await access(path.join(result.modelDir!, file));
    await access(path.join(result.adapterDir, 'adapter_config.json'));
    const lineage = JSON.parse(await readFile(path.join(result.modelDir!, 'parley.json'), 'utf8'));
    expect(lineage).toMatchObject({
      baseModel: base,
      dataSnapshot: datasetId,
      hyperParameters: { loraRank: 4 },
    });

    const version = await models.ModelVersion.findOne({ version: result.version }).lean();
    expect(version).toMatchObject({
      status: 'candidate',
      artifactPath: result.modelDir,
      architecture: 'llama',
    });
    const job = await models.TrainingJob.findById(result.jobId).lean();
    expect(job).toMatchObject({ status: 'succeeded', mode: 'lora' });
    expect(job?.outputModelVersionId?.equals(version!._id)).toBe(true);

    // The exported model predicts the agent's reply better than the base does.
    const [trained, original] = await Promise.all([loadModel(result.modelDir!), loadModel(base)]);
    const tokenizer = await ChatTokenizer.load(base);
    const ids = tokenizer.encodeChat([
      { role: 'user', content: 'where is my order' },
      { role: 'assistant', content: 'sorry for the delay it will arrive tomorrow' },
    ]);
    const nll = (logits: tf.Tensor2D) =>
      tf.tidy(() => {
        const logProbs = tf.logSoftmax(logits.slice([0, 0], [ids.length - 1, -1]));
        return -tf.sum(tf.mul(logProbs, tf.oneHot(ids.slice(1), logits.shape[1]))).dataSync()[0]!;
      });
    // Next-response ranking: the trained model picks the agents' reply among others; the base does not.
    const distractors = [
      'hello',
      'refund please',
      'can i get help with account',
      'password reset',
      'your email',
      'yes',
      'no',
      'ok bye',
      'you are helpful',
    ];
    const cases = Array.from({ length: 10 }, (_, answer) => {
      const candidates = [...distractors];
      candidates.splice(answer, 0, 'sorry for the delay it will arrive tomorrow');
      return {
        id: String(answer),
        context: [{ role: 'customer' as const, text: 'where is my order' }],
        candidates,
        answer,
      };
    });
    const trainedRanking = rankCases(trained.model, tokenizer, cases);
    const baseRanking = rankCases(original.model, tokenizer, cases);
    expect(trainedRanking).toMatchObject({ n: 10, r1: 1, mrr: 1 });
    expect(baseRanking.mrr).toBeLessThan(trainedRanking.mrr);

    const trainedLogits = trained.model.forward(ids);
    const originalLogits = original.model.forward(ids);
    expect(nll(trainedLogits)).toBeLessThan(nll(originalLogits));
    tf.dispose([trainedLogits, originalLogits]);
    trained.model.dispose();
    original.model.dispose();
  });

  it('stops cleanly when cancelled, saving the adapter but registering no version', async () => {
    const controller = new AbortController();
    const before = await models.ModelVersion.countDocuments();
    const result = await runTrainingJob(
      { models, dataDir: data.dir, backend: 'cpu' },
      { datasetId, loraRank: 2, epochs: 5, learningRate: 0.01, batchSize: 2, seed: 2 },
      { signal: controller.signal, onStep: (m) => m.step === 2 && controller.abort() },
    );
    expect(result).toMatchObject({ status: 'cancelled', version: null });
    // The worker runs ahead of the progress messages: it stops at the first step boundary after.
    expect(result.metrics.steps).toBeGreaterThanOrEqual(2);
    expect(result.metrics.steps).toBeLessThan(40);
    await access(path.join(result.adapterDir, 'adapter_model.safetensors'));
    expect(await models.ModelVersion.countDocuments()).toBe(before);
    expect((await models.TrainingJob.findById(result.jobId).lean())?.status).toBe('cancelled');
  });

  it('trains with DP-SGD within its target ε and records the spend in the lineage', async () => {
    const result = await runTrainingJob(
      { models, dataDir: data.dir, backend: 'cpu' },
      {
        datasetId,
        loraRank: 2,
        epochs: 2,
        learningRate: 0.02,
        batchSize: 4,
        seed: 1,
        dp: { targetEpsilon: 8, delta: 1e-5, maxGradNorm: 1 },
      },
    );
    expect(result.status).toBe('succeeded');
    expect(result.privacy).toMatchObject({ delta: 1e-5, clipNorm: 1, accountant: 'rdp', unit: 'example' });
    expect(result.privacy!.epsilon).toBeLessThanOrEqual(8);
    expect(result.privacy!.epsilon).toBeGreaterThan(7);
    expect(result.privacy!.steps).toBe(Math.round(2 / result.privacy!.sampleRate));
    const version = await models.ModelVersion.findOne({ version: result.version }).lean();
    expect(version?.privacy?.epsilon).toBeCloseTo(result.privacy!.epsilon, 10);
    const lineage = JSON.parse(await readFile(path.join(result.modelDir!, 'parley.json'), 'utf8'));
    expect(lineage.privacy.epsilon).toBeCloseTo(result.privacy!.epsilon, 10);
    expect((await models.TrainingJob.findById(result.jobId).lean())?.privacy).toMatchObject({
      enabled: true,
      targetEpsilon: 8,
    });
  });

  it('refuses a DP run that would exceed the privacy budget, before it starts', async () => {
    const jobs = await models.TrainingJob.countDocuments();
    await expect(
      runTrainingJob(
        { models, dataDir: data.dir, privacyBudget: { epsilon: 10 }, backend: 'cpu' },
        {
          datasetId,
          loraRank: 2,
          epochs: 1,
          learningRate: 0.01,
          batchSize: 4,
          seed: 1,
          dp: { targetEpsilon: 5, delta: 1e-5, maxGradNorm: 1 },
        },
      ),
    ).rejects.toThrow(/privacy budget exceeded/);
    expect(await models.TrainingJob.countDocuments()).toBe(jobs);
  });

  it.each([
    ['an unknown dataset', '0123456789abcdef01234567', /No dataset/],
    ['something that is not an id', 'nope', /No dataset/],
  ])('refuses %s', async (_what, id, message) => {
    await expect(
      runTrainingJob(
        { models, dataDir: data.dir, backend: 'cpu' },
        { datasetId: id, loraRank: 2, epochs: 1, learningRate: 0.01, batchSize: 2, seed: 1 },
      ),
    ).rejects.toThrow(message);
  });

  it('trains from the CLI and prints the new version as JSON', async () => {
    const env = cliEnvSharing(mongo, connection, data.dir);
    const run = await runCli(
      ['train', '--dataset', datasetId, '--epochs', '1', '--lora-rank', '2', '--batch-size', '4', '--json'],
      env,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 'succeeded',
      version: expect.stringMatching(/^v\d+$/),
    });
    // --json: stdout holds the JSON alone, and no progress is drawn.
    expect(run.stderr).not.toMatch(/train: step/);
    const dp = await runCli(['train', '--dataset', datasetId, '--dp'], env);
    expect(dp.code).not.toBe(0);
    expect(dp.stderr).toMatch(/--dp needs --target-epsilon/);
  });
});
