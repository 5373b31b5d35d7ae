import { type ChildProcess, spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { rankCases } from '../../server/evaluate/ranking.js';
import { loadModel } from '../../server/ml/architectures/registry.js';
import { decodeToFloat32, loadCheckpoint, parseSafetensors } from '../../server/ml/safetensors.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { createAccountant } from '../../server/privacy/dp/registry.js';
import { latestCheckpoint, listCheckpoints } from '../../server/train/checkpoint.js';
import {
  cancelTrainingJob,
  type ProgressEvent,
  resumeTrainingJob,
  runTrainingJob,
  TrainingWorkerDiedError,
  type TrainJobOptions,
  trainingJobEvents,
} from '../../server/train/job.js';
import { exitOf, runCli } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { cliEnvSharing, shopTrainingDataset, tinyBaseModel } from '../support/pipeline.js';

/** The adapter's tensors by name, as float32 values. */
async function adapterTensors(dir: string): Promise<Record<string, Float32Array>> {
  const file = parseSafetensors(await readFile(path.join(dir, 'adapter_model.safetensors')));
  return Object.fromEntries(
    [...file.tensors].map(([name, stored]) => [name, decodeToFloat32(stored.bytes, stored.dtype)]),
  );
}

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
    datasetId = await shopTrainingDataset(mongo, { models, connection, dataDir: data.dir }, base);
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
    await access(path.join(result.adapterDir!, 'adapter_config.json'));
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
    expect(version?.metrics.perplexity).toBeCloseTo(Math.exp(result.metrics.validationLoss!), 6);
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

  it('full fine-tuning trains and exports every weight (no adapter), and the model learned the replies', async () => {
    const result = await runTrainingJob(
      { models, dataDir: data.dir, backend: 'cpu' },
      { datasetId, mode: 'full', loraRank: 4, epochs: 4, learningRate: 0.01, batchSize: 4, seed: 1 },
    );
    expect(result.status).toBe('succeeded');
    expect(result.adapterDir).toBeNull();
    const job = await models.TrainingJob.findById(result.jobId).lean();
    expect(job).toMatchObject({ status: 'succeeded', mode: 'full', hyperparameters: { mode: 'full' } });

    const [trained, original] = await Promise.all([loadCheckpoint(result.modelDir!), loadCheckpoint(base)]);
    for (const name of original.stored.keys()) {
      const before = original.get(name).data;
      expect(
        trained.get(name).data.some((v, i) => Math.abs(v - before[i]!) > 1e-6),
        name,
      ).toBe(true);
    }
    const { model } = await loadModel(result.modelDir!);
    const tokenizer = await ChatTokenizer.load(base);
    const cases = Array.from({ length: 4 }, (_, answer) => {
      const candidates = ['hello', 'password reset', 'ok bye'];
      candidates.splice(answer, 0, 'sorry for the delay it will arrive tomorrow');
      return {
        id: String(answer),
        context: [{ role: 'customer' as const, text: 'where is my order' }],
        candidates,
        answer,
      };
    });
    expect(rankCases(model, tokenizer, cases).r1).toBe(1);
    model.dispose();
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

  it('trains with customer-level DP: each customer is one privacy unit, recorded as such', async () => {
    const dataset = await models.Dataset.findById(datasetId).lean();
    const lines = (await readFile(path.join(dataset!.artifactPath!, 'train.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    const units = lines.map((line) => (JSON.parse(line) as { unit: string }).unit);
    expect(units.every((unit) => /^cust_[0-9a-f]{16}$/.test(unit))).toBe(true); // hashed customer ids

    const result = await runTrainingJob(
      { models, dataDir: data.dir, backend: 'cpu' },
      {
        datasetId,
        loraRank: 2,
        epochs: 1,
        learningRate: 0.02,
        batchSize: 4,
        seed: 1,
        dp: { targetEpsilon: 8, delta: 1e-5, maxGradNorm: 1, unit: 'customer' },
      },
    );
    expect(result.status).toBe('succeeded');
    expect(result.privacy).toMatchObject({ unit: 'customer', accountant: 'rdp' });
    expect(result.privacy!.epsilon).toBeLessThanOrEqual(8);
    // q counts customers: the batch size over the number of distinct customers in the split.
    expect(result.privacy!.sampleRate).toBeCloseTo(4 / new Set(units).size, 10);
    const version = await models.ModelVersion.findOne({ version: result.version }).lean();
    expect(version?.privacy?.unit).toBe('customer');
    expect((await models.TrainingJob.findById(result.jobId).lean())?.privacy).toMatchObject({
      unit: 'customer',
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

  describe('checkpoints, resume and cancel', () => {
    const deps = () => ({ models, dataDir: data.dir, backend: 'cpu' as const });
    // 8 training examples in batches of 2: 4 steps an epoch, 20 in all; dropout on.
    const options = (): TrainJobOptions => ({
      datasetId,
      loraRank: 2,
      loraDropout: 0.1,
      epochs: 5,
      learningRate: 0.02,
      batchSize: 2,
      evalEvery: 4,
      checkpointEvery: 3,
      seed: 11,
    });
    let uninterrupted: Awaited<ReturnType<typeof runTrainingJob>>;
    let uninterruptedTensors: Record<string, Float32Array>;
    const stepMetrics = async (jobId: string) =>
      ((await models.TrainingJob.findById(jobId).lean())?.metrics ?? []).map((m) => ({
        step: m.step,
        epoch: m.epoch,
        loss: m.loss,
        validationLoss: m.validationLoss,
        learningRate: m.learningRate,
      }));

    const live: { jobId: string; step: number }[] = [];
    beforeAll(async () => {
      const listener = (jobId: string, progress: ProgressEvent) => live.push({ jobId, step: progress.step });
      trainingJobEvents.on('progress', listener);
      uninterrupted = await runTrainingJob(deps(), options());
      trainingJobEvents.off('progress', listener);
      uninterruptedTensors = await adapterTensors(uninterrupted.adapterDir!);
    });

    it('records progress, per-step metrics, events and checkpoints on the job document', async () => {
      const job = await models.TrainingJob.findById(uninterrupted.jobId).lean();
      expect(uninterrupted.metrics.steps).toBe(20);
      expect(job).toMatchObject({ status: 'succeeded', progress: { step: 20, totalSteps: 20 } });
      expect(job!.metrics.map((m) => m.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(job!.metrics.filter((m) => m.validationLoss !== null).map((m) => m.step)).toEqual([
        4, 8, 12, 16, 20,
      ]);
      expect(job!.progress?.tokensPerSecond).toBeGreaterThan(0);
      // The same progress, live, for the admin UI.
      expect(live.filter((e) => e.jobId === uninterrupted.jobId).map((e) => e.step)).toEqual(
        job!.metrics.map((m) => m.step),
      );
      expect(job!.events.map((e) => e.message)).toContain('training succeeded after 20 steps');
      expect(job!.lease?.owner ?? null).toBeNull();
      // The newest three checkpoints stay: 15, 18 and the end one.
      expect((await listCheckpoints(job!.jobDir!)).map((c) => c.step)).toEqual([15, 18, 20]);
      const latest = await latestCheckpoint(job!.jobDir!);
      expect(job!.checkpointPath).toBe(latest!.dir);
    });

    it('a worker killed mid-run leaves a resumable job; the resumed run ends with the same adapter and metrics', async () => {
      let worker: ChildProcess | undefined;
      let jobId = '';
      const killed = runTrainingJob(deps(), options(), {
        onWorker: (child, id) => {
          worker = child;
          jobId = id;
        },
        onStep: (p) => {
          if (p.step === 8) worker!.kill('SIGKILL');
        },
      });
      await expect(killed).rejects.toThrow(TrainingWorkerDiedError);
      await expect(killed).rejects.toThrow(/was killed \(SIGKILL\).*parley train --resume/);
      const job = await models.TrainingJob.findById(jobId).lean();
      expect(job?.status).toBe('failed');
      const checkpoint = await latestCheckpoint(job!.jobDir!);
      expect(checkpoint!.step).toBeGreaterThanOrEqual(6);
      expect(checkpoint!.step).toBeLessThan(20);
      expect(checkpoint!.step % 3).toBe(0);

      // A job a live process holds is not resumed from under it; one whose holder died (a killed
      // `parley train`, whose worker exits with it) is.
      const lease = (pid: number) => ({
        status: 'running',
        lease: { owner: `${hostname()}:${pid}`, expiresAt: new Date(Date.now() + 60_000) },
      });
      await models.TrainingJob.updateOne({ _id: jobId }, { $set: lease(process.pid) });
      await expect(resumeTrainingJob(deps(), jobId)).rejects.toThrow(/is running \(held by/);
      const gone = spawn(process.execPath, ['-e', '']);
      await exitOf(gone);
      await models.TrainingJob.updateOne({ _id: jobId }, { $set: lease(gone.pid!) });

      const resumed = await resumeTrainingJob(deps(), jobId);
      expect(resumed).toMatchObject({ status: 'succeeded', resumedFrom: checkpoint!.step, jobId });
      expect(await adapterTensors(resumed.adapterDir!)).toEqual(uninterruptedTensors);
      expect(resumed.metrics.steps).toBe(20);
      expect(resumed.metrics.trainLoss).toBe(uninterrupted.metrics.trainLoss);
      expect(resumed.metrics.validationLoss).toBe(uninterrupted.metrics.validationLoss);
      expect(await stepMetrics(jobId)).toEqual(await stepMetrics(uninterrupted.jobId));
      const after = await models.TrainingJob.findById(jobId).lean();
      expect(after?.status).toBe('succeeded');
      expect(after?.events.map((e) => e.message)).toContain(`resuming from step ${checkpoint!.step}`);
      await expect(resumeTrainingJob(deps(), jobId)).rejects.toThrow(/already succeeded/);
    });

    it('cancel stops at a step boundary with a checkpoint; `parley train --resume` then ends like an uninterrupted run', async () => {
      const controller = new AbortController();
      const versions = await models.ModelVersion.countDocuments();
      const cancelled = await runTrainingJob(deps(), options(), {
        signal: controller.signal,
        onStep: (p) => p.step === 4 && controller.abort(),
      });
      expect(cancelled).toMatchObject({ status: 'cancelled', version: null, modelDir: null });
      // The worker runs ahead of the progress messages: it stops at the first step boundary after.
      expect(cancelled.metrics.steps).toBeGreaterThanOrEqual(4);
      expect(cancelled.metrics.steps).toBeLessThan(20);
      await access(path.join(cancelled.adapterDir!, 'adapter_model.safetensors'));
      expect(await models.ModelVersion.countDocuments()).toBe(versions);
      const job = await models.TrainingJob.findById(cancelled.jobId).lean();
      expect(job?.status).toBe('cancelled');
      // The checkpoint is the step it stopped at, and matches the job's progress.
      const checkpoint = await latestCheckpoint(job!.jobDir!);
      expect(checkpoint!.step).toBe(cancelled.metrics.steps);
      expect(job!.progress?.step).toBe(cancelled.metrics.steps);
      expect(job!.metrics).toHaveLength(cancelled.metrics.steps);

      const env = cliEnvSharing(mongo, connection, data.dir);
      const changed = await runCli(['train', '--resume', cancelled.jobId, '--epochs', '2'], env);
      expect(changed.code).not.toBe(0);
      expect(changed.stderr).toMatch(/drop --epochs/);
      const run = await runCli(['train', '--resume', cancelled.jobId], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        new RegExp(`Training succeeded \\(job ${cancelled.jobId}, resumed from step ${checkpoint!.step}\\)`),
      );
      expect(run.stderr).toMatch(/train: resuming from step \d+/);
      expect(run.stderr).toMatch(/train: step 20\/20 /);
      expect(
        (await models.AuditEvent.find({ 'target.id': cancelled.jobId }).lean()).map((e) => [
          e.action,
          e.actor?.kind,
        ]),
      ).toEqual([['training.resume', 'cli']]);
      const resumed = (await models.TrainingJob.findById(cancelled.jobId).lean())!;
      expect(resumed.status).toBe('succeeded');
      expect(await adapterTensors(path.join(resumed.jobDir!, 'adapter'))).toEqual(uninterruptedTensors);
      expect(await stepMetrics(cancelled.jobId)).toEqual(await stepMetrics(uninterrupted.jobId));

      const again = await runCli(['train', '--resume', cancelled.jobId, '--json'], env);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/already succeeded/);
    });

    it('a cancel requested on the job document (another process) stops the job', async () => {
      let requested = false;
      const result = await runTrainingJob(deps(), options(), {
        onWorker: (_child, id) => {
          void (async () => {
            requested = await cancelTrainingJob(models, id);
          })();
        },
      });
      expect(requested).toBe(true);
      expect(result.status).toBe('cancelled');
      expect(result.metrics.steps).toBeLessThan(20);
      expect(await cancelTrainingJob(models, result.jobId)).toBe(false); // no longer running
    });

    it('a resumed DP run continues the accountant: ε adds up to the whole run’s, never restarts', async () => {
      const dpOptions: TrainJobOptions = {
        datasetId,
        loraRank: 2,
        epochs: 6,
        learningRate: 0.02,
        batchSize: 4,
        checkpointEvery: 2,
        seed: 3,
        dp: { targetEpsilon: 8, delta: 1e-5, maxGradNorm: 1 },
      };
      let worker: ChildProcess | undefined;
      let jobId = '';
      await expect(
        runTrainingJob(deps(), dpOptions, {
          onWorker: (child, id) => {
            worker = child;
            jobId = id;
          },
          onStep: (p) => {
            if (p.step === 3) worker!.kill('SIGKILL');
          },
        }),
      ).rejects.toThrow(TrainingWorkerDiedError);
      const job = await models.TrainingJob.findById(jobId).lean();
      const checkpoint = (await latestCheckpoint(job!.jobDir!))!;
      const state = JSON.parse(await readFile(path.join(checkpoint.dir, 'trainer_state.json'), 'utf8'));
      // The checkpoint's accountant holds exactly the steps it had taken.
      expect(state.accountant.history.reduce((n: number, entry: number[]) => n + entry[2]!, 0)).toBe(
        checkpoint.step,
      );
      const spentAtCheckpoint = job!.metrics.find((m) => m.step === checkpoint.step)!.epsilon!;
      expect(spentAtCheckpoint).toBeGreaterThan(0);

      const resumed = await resumeTrainingJob(deps(), jobId);
      const { noiseMultiplier, sampleRate, steps } = resumed.privacy!;
      expect(steps).toBe(job!.privacy!.plannedSteps);
      const whole = createAccountant('rdp');
      whole.step({ noiseMultiplier, sampleRate }, steps);
      expect(resumed.privacy!.epsilon).toBeCloseTo(whole.getEpsilon(1e-5), 10);
      expect(resumed.privacy!.epsilon).toBeLessThanOrEqual(8);
      const epsilons = (await models.TrainingJob.findById(jobId).lean())!.metrics.map((m) => m.epsilon!);
      expect(epsilons).toHaveLength(steps);
      for (let i = 1; i < epsilons.length; i += 1) expect(epsilons[i]!).toBeGreaterThan(epsilons[i - 1]!);
      expect(epsilons[checkpoint.step]!).toBeGreaterThan(spentAtCheckpoint);
      const version = await models.ModelVersion.findOne({ version: resumed.version }).lean();
      expect(version?.privacy?.epsilon).toBeCloseTo(resumed.privacy!.epsilon, 10);
    });
  });
});
