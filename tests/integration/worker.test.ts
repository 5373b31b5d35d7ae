import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArtifactStore } from '../../server/artifacts/store.js';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { AdminJobs } from '../../server/jobs/admin-jobs.js';
import { enqueueEvaluation, evaluationRunner } from '../../server/jobs/evaluate-job.js';
import { JobWorker, type WorkerEvent } from '../../server/jobs/job-worker.js';
import { cancelTraining } from '../../server/jobs/training-queue.js';
import type { TrainingDone } from '../../server/jobs/training-watcher.js';
import { silentLogger } from '../../server/logger.js';
import { decodeToFloat32, parseSafetensors } from '../../server/ml/safetensors.js';
import { latestCheckpoint } from '../../server/train/checkpoint.js';
import {
  type ProgressEvent,
  runTrainingJob,
  type TrainJobOptions,
  type TrainJobResult,
  trainingJobEvents,
} from '../../server/train/job.js';
import { CLI, cliEnv, exitOf } from '../support/cli.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { cliEnvSharing, shopTrainingDataset, tinyBaseModel } from '../support/pipeline.js';

async function adapterTensors(dir: string): Promise<Record<string, Float32Array>> {
  const file = parseSafetensors(await readFile(path.join(dir, 'adapter_model.safetensors')));
  return Object.fromEntries(
    [...file.tensors].map(([name, stored]) => [name, decodeToFloat32(stored.bytes, stored.dtype)]),
  );
}

type Timed = WorkerEvent & { time: string };

/** `parley worker --json ARGS`, its events as they arrive. */
function startWorker(vars: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [CLI, 'worker', '--json', ...args], { env: cliEnv(vars) });
  const events: Timed[] = [];
  const waiting: { test: (e: Timed) => boolean; resolve: (e: Timed) => void }[] = [];
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const event = JSON.parse(buffered.slice(0, end)) as Timed;
      buffered = buffered.slice(end + 1);
      events.push(event);
      for (const w of waiting.filter((w) => w.test(event))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  const exited = exitOf(child);
  return {
    child,
    events,
    exited,
    stderr: () => stderr,
    /** The first event (from now) that passes `test`; rejects if the worker exits first. */
    next(test: (e: Timed) => boolean): Promise<Timed> {
      return Promise.race([
        new Promise<Timed>((resolve) => waiting.push({ test, resolve })),
        exited.then((code) => {
          throw new Error(`parley worker exited (${code}) first:\n${stderr}`);
        }),
      ]);
    },
  };
}

describe('parley worker', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  let data: { dir: string; cleanup: () => Promise<void> };
  let datasetId: string;
  const workers: ChildProcess[] = [];
  let trainedVersion = '';
  const inProcessWorker = (events: WorkerEvent[], kinds: ('train' | 'evaluate')[]) =>
    new JobWorker({
      models,
      store: openArtifactStore(data.dir),
      leaseMs: 1500,
      pollMs: 50,
      kinds,
      train: { backend: 'cpu' },
      evaluate: evaluationRunner(models, 'cpu'),
      onEvent: (event) => events.push(event),
    });

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    data = await tempDataDir();
    const base = await tinyBaseModel(data.dir, 3);
    datasetId = await shopTrainingDataset(mongo, { models, connection, dataDir: data.dir }, base);
  }, 60_000);
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await mongo.stop();
    await data.cleanup();
  });

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
  const stepMetrics = async (jobId: string) =>
    ((await models.TrainingJob.findById(jobId).lean())?.metrics ?? []).map((m) => ({
      step: m.step,
      loss: m.loss,
      validationLoss: m.validationLoss,
      learningRate: m.learningRate,
    }));

  it('killed mid-run, then stopped by SIGTERM: the job resumes from its checkpoint and ends exactly like an uninterrupted run; the console sees it all', async () => {
    const uninterrupted = await runTrainingJob({ models, dataDir: data.dir, backend: 'cpu' }, options());

    // The web server's side, with no local training: it queues the job and relays its progress.
    const jobs = new AdminJobs({
      models,
      connection,
      env: testEnv(data.dir, {
        PARLEY_LOCAL_WORKER: 'false',
        PARLEY_JOB_POLL_MS: '100',
        TFJS_BACKEND: 'cpu',
      }),
      logger: silentLogger,
    });
    jobs.start();
    const relayed: number[] = [];
    const onProgress = (id: string, p: ProgressEvent) => {
      if (id === jobId) relayed.push(p.step);
    };
    trainingJobEvents.on('progress', onProgress);
    const done = new Promise<TrainingDone>((resolve) =>
      jobs.events.on('training:done', (event) => resolve(event as TrainingDone)),
    );
    const jobId = await jobs.startTraining(options());
    const queued = await models.WorkerJob.findOne({ trainingJobId: jobId }).lean();
    expect(queued).toMatchObject({ kind: 'train', status: 'queued', attempts: 0 });
    expect(queued!.params).toMatchObject({
      trainingJobId: jobId,
      artifacts: {
        dataset: { key: `datasets/${datasetId}` },
        base: { key: 'base' },
        job: { key: `training/${jobId}` },
      },
    });

    const vars = {
      ...cliEnvSharing(mongo, connection, data.dir),
      PARLEY_WORKER_LEASE_MS: '1500',
      PARLEY_JOB_POLL_MS: '100',
    };
    // 1. SIGTERM after its first checkpoint: the worker stops there and puts the job back.
    const stopped = startWorker(vars);
    workers.push(stopped.child);
    expect(await stopped.next((e) => e.event === 'leased')).toMatchObject({
      kind: 'train',
      attempt: 1,
      trainingJobId: jobId,
    });
    await stopped.next((e) => e.event === 'checkpoint');
    stopped.child.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);
    expect(stopped.events.at(-1)).toMatchObject({ event: 'released', reason: 'shutdown' });
    expect(await models.WorkerJob.findById(queued!._id).lean()).toMatchObject({
      status: 'queued',
      attempts: 0, // a release on shutdown uses no attempt
      lease: { owner: null },
    });
    expect((await models.TrainingJob.findById(jobId).lean())?.status).toBe('queued');
    const jobDir = (await models.TrainingJob.findById(jobId).lean())!.jobDir!;
    const firstResume = (await latestCheckpoint(jobDir))!.step;

    // 2. The next worker resumes it and is killed (SIGKILL) after a checkpoint of its own: its
    // lease is left to expire.
    const killed = startWorker(vars);
    workers.push(killed.child);
    expect(await killed.next((e) => e.event === 'leased')).toMatchObject({ attempt: 1 });
    await killed.next((e) => e.event === 'checkpoint');
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(await models.WorkerJob.findById(queued!._id).lean()).toMatchObject({
      status: 'leased',
      attempts: 1,
    });
    const secondResume = (await latestCheckpoint(jobDir))!.step;
    expect(secondResume).toBeGreaterThan(firstResume);
    expect(secondResume).toBeLessThan(20);

    // 3. Another worker takes the job over once the lease expired and finishes it.
    const finisher = new JobWorker({
      models,
      store: openArtifactStore(data.dir),
      leaseMs: 1500,
      pollMs: 100,
      train: { backend: 'cpu' },
      onEvent: (event) => finisherEvents.push(event),
    });
    const finisherEvents: WorkerEvent[] = [];
    await finisher.start({ once: true });
    expect(finisherEvents[0]).toMatchObject({ event: 'leased', attempt: 2 });
    const finished = finisherEvents.find((e) => e.event === 'finished');
    expect(finished).toMatchObject({ status: 'succeeded', error: null });
    const result = (finished as { result: TrainJobResult }).result;
    expect(result).toMatchObject({ jobId, status: 'succeeded', resumedFrom: secondResume });
    trainedVersion = result.version!;

    expect(await adapterTensors(result.adapterDir!)).toEqual(await adapterTensors(uninterrupted.adapterDir!));
    expect(result.metrics.steps).toBe(20);
    expect(result.metrics.trainLoss).toBe(uninterrupted.metrics.trainLoss);
    expect(result.metrics.validationLoss).toBe(uninterrupted.metrics.validationLoss);
    expect(await stepMetrics(jobId)).toEqual(await stepMetrics(uninterrupted.jobId));
    const training = await models.TrainingJob.findById(jobId).lean();
    expect(training?.status).toBe('succeeded');
    expect(training?.events.map((e) => e.message)).toEqual(
      expect.arrayContaining([`resuming from step ${firstResume}`, `resuming from step ${secondResume}`]),
    );
    expect(await models.WorkerJob.findById(queued!._id).lean()).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      result: { version: result.version },
    });

    // The console's server saw the run end, and the steps the workers ran, from the documents.
    expect(await done).toMatchObject({
      jobId,
      status: 'succeeded',
      error: null,
      result: { version: result.version },
    });
    expect(relayed.at(-1)).toBe(20);
    trainingJobEvents.off('progress', onProgress);
    await jobs.close();
  }, 120_000);

  it('runs a queued evaluation and stores the comparison on the version', async () => {
    expect(trainedVersion).toMatch(/^v\d+$/); // trained by the test above
    const queued = await enqueueEvaluation(
      models,
      { version: trainedVersion, rankingCases: 4, samples: 2, examples: 1, maxNewTokens: 4, seed: 1 },
      3,
    );
    const events: WorkerEvent[] = [];
    await inProcessWorker(events, ['evaluate']).start({ once: true });
    expect(events.map((e) => e.event)).toEqual(['leased', 'finished']);
    expect(events[1]).toMatchObject({
      status: 'succeeded',
      error: null,
      result: { version: trainedVersion, against: { kind: 'base' }, datasetId },
    });
    const job = await models.WorkerJob.findById(queued).lean();
    expect(job).toMatchObject({ kind: 'evaluate', status: 'succeeded', attempts: 1 });
    expect((job!.result as { metrics: Record<string, unknown> }).metrics).toHaveProperty('validationLoss');
    const version = await models.ModelVersion.findOne({ version: trainedVersion }).lean();
    expect(version?.comparison).toMatchObject({ version: trainedVersion, datasetId });
  }, 60_000);

  it('cancels a queued training job at once, and a running one after its current step with a checkpoint', async () => {
    const jobs = new AdminJobs({
      models,
      connection,
      env: testEnv(data.dir, { PARLEY_LOCAL_WORKER: 'false', TFJS_BACKEND: 'cpu' }),
      logger: silentLogger,
    });
    const waiting = await jobs.startTraining(options());
    expect(await cancelTraining(models, waiting)).toBe(true);
    expect(await models.WorkerJob.findOne({ trainingJobId: waiting }).lean()).toMatchObject({
      status: 'cancelled',
    });
    expect((await models.TrainingJob.findById(waiting).lean())?.status).toBe('cancelled');
    expect(await cancelTraining(models, waiting)).toBe(false);

    const running = await jobs.startTraining(options());
    const events: WorkerEvent[] = [];
    const worker = inProcessWorker(events, ['train']);
    const cancelled = new Promise<void>((resolve) => {
      const onStep = (id: string) => {
        if (id !== running) return;
        trainingJobEvents.off('progress', onStep);
        void cancelTraining(models, running).then(() => resolve());
      };
      trainingJobEvents.on('progress', onStep);
    });
    await worker.start({ once: true });
    await cancelled;
    expect(events.at(-1)).toMatchObject({
      event: 'finished',
      status: 'cancelled',
      result: { status: 'cancelled' },
    });
    const training = await models.TrainingJob.findById(running).lean();
    expect(training?.status).toBe('cancelled');
    expect(training!.progress!.step).toBeLessThan(20);
    expect((await latestCheckpoint(training!.jobDir!))?.step).toBe(training!.progress!.step);
    await jobs.close();
  }, 60_000);
});
