/**
 * A LoRA fine-tuning job end to end: the dataset's examples, the base model with a fresh adapter,
 * the training loop, then the adapter (PEFT layout) and a merged Hugging Face model directory with
 * its lineage, registered as a candidate model version. Progress is on the job document.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ObjectId } from 'mongodb';
import { deterministicId } from '../db/ids.js';
import type { Models } from '../db/models/index.js';
import { conflict, notFound } from '../errors.js';
import { ARCHITECTURE_REGISTRY } from '../ml/architectures/registry.js';
import { readModelConfig } from '../ml/config.js';
import { exportModel } from '../ml/export.js';
import { LoraAdapter } from '../ml/lora.js';
import { saveAdapter } from '../ml/lora-adapter.js';
import { loadCheckpoint } from '../ml/safetensors.js';
import { noiseForTarget } from '../privacy/dp/calibrate.js';
import { assertWithinBudget, type PrivacyBudget } from '../privacy/dp/ledger.js';
import { createAccountant } from '../privacy/dp/registry.js';
import { secureRng } from '../privacy/dp/rng.js';
import { readExamples } from './examples.js';
import { loraTrainable } from './lora-trainable.js';
import { type StepMetrics, train } from './trainer.js';

export interface TrainJobOptions {
  datasetId: string;
  /** Base model directory; default the one the dataset was rendered for. */
  base?: string;
  loraRank: number;
  loraAlpha?: number;
  loraDropout?: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
  maxGradNorm?: number;
  weightDecay?: number;
  evalEvery?: number;
  seed: number;
  /** DP-SGD at example level: the noise is calibrated so the run spends at most targetEpsilon. */
  dp?: { targetEpsilon: number; delta: number; maxGradNorm: number };
}

export interface PrivacySpend {
  epsilon: number;
  delta: number;
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
  clipNorm: number;
  accountant: 'rdp';
  unit: 'example';
}

export interface TrainJobResult {
  jobId: string;
  status: 'succeeded' | 'cancelled';
  version: string | null;
  modelDir: string | null;
  adapterDir: string;
  metrics: { steps: number; trainLoss: number; validationLoss: number | null; durationMs: number };
  /** What a DP run spent (null without DP). */
  privacy: PrivacySpend | null;
}

export async function runTrainingJob(
  deps: { models: Models; dataDir: string; privacyBudget?: PrivacyBudget },
  options: TrainJobOptions,
  hooks: { onStep?: (metrics: StepMetrics) => void; signal?: AbortSignal } = {},
): Promise<TrainJobResult> {
  const { models } = deps;
  const dataset = ObjectId.isValid(options.datasetId)
    ? await models.Dataset.findById(options.datasetId).lean()
    : null;
  if (!dataset) throw notFound(`No dataset ${options.datasetId}.`, 'dataset_not_found');
  if (dataset.status !== 'ready')
    throw conflict(`Dataset ${options.datasetId} is ${dataset.status}, not ready.`, 'dataset_not_ready');
  const base = options.base ?? dataset.render?.baseModel;
  if (!base) throw notFound('No base model: pass one.', 'base_not_found');

  const trainExamples = await readExamples(dataset.artifactPath!, 'train');
  const validationExamples = await readExamples(dataset.artifactPath!, 'validation');
  if (trainExamples.length === 0)
    throw conflict(`Dataset ${options.datasetId} has no training examples.`, 'dataset_empty');

  let dpPlan: { noiseMultiplier: number; sampleRate: number; steps: number; expectedEpsilon: number } | null =
    null;
  if (options.dp) {
    const sampleRate = Math.min(1, options.batchSize / trainExamples.length);
    const steps = Math.max(1, Math.round(options.epochs / sampleRate));
    const calibrated = noiseForTarget({
      targetEpsilon: options.dp.targetEpsilon,
      delta: options.dp.delta,
      sampleRate,
      steps,
    });
    dpPlan = {
      noiseMultiplier: calibrated.noiseMultiplier,
      sampleRate,
      steps,
      expectedEpsilon: calibrated.epsilon,
    };
    // Refuse before anything starts: a run that would exceed the budget never begins.
    await assertWithinBudget(
      models,
      { datasetId: dataset._id, epsilon: calibrated.epsilon, delta: options.dp.delta, unit: 'example' },
      deps.privacyBudget ?? {},
    );
  }

  const started = performance.now();
  const jobId = new ObjectId();
  const hyperparameters = {
    loraRank: options.loraRank,
    loraAlpha: options.loraAlpha ?? options.loraRank * 2,
    loraDropout: options.loraDropout ?? 0.05,
    epochs: options.epochs,
    learningRate: options.learningRate,
    batchSize: options.batchSize,
    maxGradNorm: options.maxGradNorm ?? 1,
    weightDecay: options.weightDecay ?? 0.01,
    seed: options.seed,
  };
  await models.TrainingJob.create({
    _id: jobId,
    datasetId: dataset._id,
    baseModel: base,
    mode: 'lora',
    hyperparameters,
    privacy: options.dp
      ? {
          enabled: true,
          targetEpsilon: options.dp.targetEpsilon,
          delta: options.dp.delta,
          noiseMultiplier: dpPlan!.noiseMultiplier,
          accountant: 'rdp',
        }
      : { enabled: false },
    status: 'running',
    startedAt: new Date(),
  });

  const config = await readModelConfig(base);
  const checkpoint = await loadCheckpoint(base);
  const adapter = LoraAdapter.create(config, {
    r: hyperparameters.loraRank,
    alpha: hyperparameters.loraAlpha,
    dropout: hyperparameters.loraDropout,
    seed: options.seed,
  });
  const model = ARCHITECTURE_REGISTRY[config.architecture](config, checkpoint, adapter);
  const jobDir = path.join(deps.dataDir, 'training', jobId.toHexString());
  const adapterDir = path.join(jobDir, 'adapter');
  try {
    const accountant = createAccountant('rdp');
    const dpSettings =
      options.dp && dpPlan
        ? {
            noiseMultiplier: dpPlan.noiseMultiplier,
            clipNorm: options.dp.maxGradNorm,
            sampleRate: dpPlan.sampleRate,
            rng: secureRng(),
            accountant,
          }
        : undefined;
    const result = await train(
      loraTrainable(model, adapter),
      { train: trainExamples, validation: validationExamples },
      {
        dp: dpSettings,
        epochs: options.epochs,
        batchSize: options.batchSize,
        learningRate: options.learningRate,
        maxGradNorm: hyperparameters.maxGradNorm,
        weightDecay: hyperparameters.weightDecay,
        evalEvery: options.evalEvery,
        seed: options.seed,
      },
      {
        signal: hooks.signal,
        onStep: (metrics) => {
          hooks.onStep?.(metrics);
          void models.TrainingJob.updateOne(
            { _id: jobId },
            {
              $set: {
                progress: {
                  step: metrics.step,
                  totalSteps: metrics.totalSteps,
                  epoch: metrics.epoch,
                  trainLoss: metrics.loss,
                  tokensPerSecond: metrics.tokensPerSecond,
                },
              },
            },
          ).catch(() => undefined);
        },
      },
    );
    await mkdir(adapterDir, { recursive: true });
    await saveAdapter(adapterDir, adapter, { baseModelNameOrPath: base });
    const metrics = {
      steps: result.steps,
      trainLoss: result.finalLoss,
      validationLoss: result.validationLoss,
      durationMs: Math.round(performance.now() - started),
    };
    // Whatever ran is spent, a cancelled run's steps included.
    const privacy: PrivacySpend | null =
      options.dp && dpPlan
        ? {
            epsilon: accountant.getEpsilon(options.dp.delta),
            delta: options.dp.delta,
            noiseMultiplier: dpPlan.noiseMultiplier,
            sampleRate: dpPlan.sampleRate,
            steps: result.steps,
            clipNorm: options.dp.maxGradNorm,
            accountant: 'rdp',
            unit: 'example',
          }
        : null;
    if (privacy) {
      await models.TrainingJob.updateOne(
        { _id: jobId },
        { $set: { 'privacy.epsilonSpent': privacy.epsilon } },
      );
    }
    if (result.cancelled) {
      await models.TrainingJob.updateOne(
        { _id: jobId },
        { $set: { status: 'cancelled', finishedAt: new Date() } },
      );
      return {
        jobId: jobId.toHexString(),
        status: 'cancelled',
        version: null,
        modelDir: null,
        adapterDir,
        metrics,
        privacy,
      };
    }

    const version = `v${(await models.ModelVersion.countDocuments()) + 1}`;
    const modelDir = path.join(deps.dataDir, 'models', version);
    const lineage = {
      baseModel: base,
      dataSnapshot: dataset._id.toHexString(),
      hyperParameters: hyperparameters,
      metrics: {
        trainLoss: metrics.trainLoss,
        ...(metrics.validationLoss === null ? {} : { validationLoss: metrics.validationLoss }),
      },
      trainingJob: jobId.toHexString(),
      ...(privacy ? { privacy } : {}),
    };
    await exportModel({ baseDir: base, outDir: modelDir, adapter, lineage });
    const versionId = deterministicId('model-version', version);
    await models.ModelVersion.create({
      _id: versionId,
      version,
      status: 'candidate',
      artifactPath: modelDir,
      baseModel: base,
      architecture: config.architecture,
      datasetId: dataset._id,
      trainingJobId: jobId,
      hyperparameters,
      metrics: lineage.metrics,
      ...(privacy ? { privacy } : {}),
    });
    await models.TrainingJob.updateOne(
      { _id: jobId },
      {
        $set: {
          status: 'succeeded',
          finishedAt: new Date(),
          outputModelVersionId: versionId,
          'progress.validationLoss': metrics.validationLoss,
        },
      },
    );
    return {
      jobId: jobId.toHexString(),
      status: 'succeeded',
      version,
      modelDir,
      adapterDir,
      metrics,
      privacy,
    };
  } catch (error) {
    await models.TrainingJob.updateOne(
      { _id: jobId },
      { $set: { status: 'failed', finishedAt: new Date(), error: (error as Error).message } },
    ).catch(() => undefined);
    throw error;
  } finally {
    model.dispose();
    adapter.dispose();
  }
}
