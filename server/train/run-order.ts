/**
 * The training worker's work: load the dataset's examples and the base model with a fresh adapter,
 * continue from the job's latest checkpoint if there is one, train with checkpoints every N steps
 * and at the end, then write the adapter (PEFT layout) and stage the merged model in the job
 * directory. It runs inside the worker process (training-worker.ts), reporting through `send`.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ARCHITECTURE_REGISTRY } from '../ml/architectures/registry.js';
import { selectBackend } from '../ml/backend.js';
import { readModelConfig } from '../ml/config.js';
import { exportModel } from '../ml/export.js';
import { LoraAdapter } from '../ml/lora.js';
import { peftAdapterConfig, peftTensorName, saveAdapter } from '../ml/lora-adapter.js';
import { modelTensors } from '../ml/model-tensors.js';
import { loadCheckpoint } from '../ml/safetensors.js';
import { accountantFromState, createAccountant } from '../privacy/dp/registry.js';
import { secureRng } from '../privacy/dp/rng.js';
import { type CheckpointLayout, latestCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { readExamples } from './examples.js';
import { fullTrainable } from './full-trainable.js';
import { loraTrainable } from './lora-trainable.js';
import { train } from './trainer.js';
import type { PrivacySpend, WorkerMessage, WorkOrder, WorkResult } from './work-order.js';

/** The seed of the dropout stream, apart from the adapter's initialisation and the batch order. */
const DROPOUT_STREAM = 0x5eed_d0;

export async function runWorkOrder(
  order: WorkOrder,
  send: (message: WorkerMessage) => void,
  signal: AbortSignal,
): Promise<WorkResult> {
  // Training asks for native matMul (OpenBLAS) on wasm; without the addon built, wasm alone.
  const backend = await selectBackend(order.backend, { nativeMatMul: true });
  const hp = order.hyperparameters;
  const trainExamples = await readExamples(order.datasetDir, 'train');
  const validationExamples = await readExamples(order.datasetDir, 'validation');
  const config = await readModelConfig(order.base);
  const checkpoint = await loadCheckpoint(order.base);
  const full = hp.mode === 'full';
  const adapter = full
    ? null
    : LoraAdapter.create(config, {
        r: hp.loraRank,
        alpha: hp.loraAlpha,
        dropout: hp.loraDropout,
        seed: hp.seed,
      });
  const model = ARCHITECTURE_REGISTRY[config.architecture](config, checkpoint, adapter ?? undefined, {
    trainable: full,
  });
  try {
    // Full fine-tuning checkpoints every weight as the model holds it (linear weights transposed).
    const layout: CheckpointLayout = adapter
      ? {
          names: adapter.pairs.flatMap(({ module }) => [
            peftTensorName(module.name, 'A'),
            peftTensorName(module.name, 'B'),
          ]),
          shapes: adapter.pairs.flatMap(({ a, b }) => [a.shape, b.shape]),
          adapterConfig: peftAdapterConfig(adapter, order.base),
        }
      : {
          names: model.weights.map((w) => (w.transposed ? `${w.name}.T` : w.name)),
          shapes: model.weights.map((w) => w.tensor.shape),
        };
    const latest = await latestCheckpoint(order.jobDir);
    const resume = latest ? await readCheckpoint(latest.dir, layout) : undefined;
    // A resumed DP run goes on with the accountant it stopped with: what was spent stays spent.
    const accountant = resume?.accountant ? accountantFromState(resume.accountant) : createAccountant('rdp');
    const dp = order.dp;
    const trainable = adapter
      ? loraTrainable(model, adapter, hp.seed ^ DROPOUT_STREAM)
      : fullTrainable(model);
    send({
      type: 'started',
      resumedFrom: resume?.step ?? null,
      backend: backend.name,
      trainExamples: trainExamples.length,
    });
    let trainingSeconds = resume?.loop.elapsedSeconds ?? 0;
    const result = await train(
      trainable,
      { train: trainExamples, validation: validationExamples },
      {
        dp: dp
          ? {
              unit: dp.unit ?? 'example',
              noiseMultiplier: dp.noiseMultiplier,
              clipNorm: dp.clipNorm,
              sampleRate: dp.sampleRate,
              rng: secureRng(),
              accountant,
            }
          : undefined,
        epochs: hp.epochs,
        batchSize: hp.batchSize,
        learningRate: hp.learningRate,
        maxGradNorm: hp.maxGradNorm,
        weightDecay: hp.weightDecay,
        evalEvery: hp.evalEvery ?? undefined,
        seed: hp.seed,
        checkpointEvery: hp.checkpointEvery,
        resume,
      },
      {
        signal,
        onStep: (m) => {
          send({
            type: 'step',
            progress: {
              step: m.step,
              totalSteps: m.totalSteps,
              epoch: m.epoch,
              loss: m.loss,
              validationLoss: m.validationLoss,
              learningRate: m.learningRate,
              tokensPerSecond: m.tokensPerSecond,
              etaSeconds: m.etaSeconds,
              epsilon: dp ? accountant.getEpsilon(dp.delta) : null,
            },
          });
        },
        onCheckpoint: async (snapshot) => {
          trainingSeconds = snapshot.loop.elapsedSeconds;
          const saved = await writeCheckpoint(order.jobDir, snapshot, layout, { keep: hp.keepCheckpoints });
          send({ type: 'checkpoint', step: saved.step, dir: saved.dir });
        },
      },
    );

    let adapterDir: string | null = null;
    if (adapter) {
      adapterDir = path.join(order.jobDir, 'adapter');
      await rm(adapterDir, { recursive: true, force: true });
      await mkdir(adapterDir, { recursive: true });
      await saveAdapter(adapterDir, adapter, { baseModelNameOrPath: order.base });
    }
    const epsilon = dp ? accountant.getEpsilon(dp.delta) : null;
    const base = {
      steps: result.steps,
      finalLoss: result.finalLoss,
      validationLoss: result.validationLoss,
      stoppedEarly: result.stoppedEarly,
      epsilon,
      trainingSeconds,
      adapterDir,
    };
    if (result.cancelled) return { status: 'cancelled', ...base, stagedModelDir: null };

    // Staged in the job directory; the parent moves it to the models directory once it has a version.
    const privacy: PrivacySpend | null =
      dp && epsilon !== null
        ? {
            epsilon,
            delta: dp.delta,
            noiseMultiplier: dp.noiseMultiplier,
            sampleRate: dp.sampleRate,
            steps: result.steps,
            clipNorm: dp.clipNorm,
            accountant: 'rdp',
            unit: dp.unit ?? 'example',
          }
        : null;
    const stagedModelDir = path.join(order.jobDir, 'model');
    await rm(stagedModelDir, { recursive: true, force: true });
    await exportModel({
      baseDir: order.base,
      outDir: stagedModelDir,
      ...(adapter ? { adapter } : { weights: await modelTensors(model) }),
      lineage: {
        ...order.lineage,
        metrics: {
          trainLoss: result.finalLoss,
          ...(result.validationLoss === null ? {} : { validationLoss: result.validationLoss }),
        },
        ...(privacy ? { privacy } : {}),
      },
    });
    return { status: 'succeeded', ...base, stagedModelDir };
  } finally {
    model.dispose();
    adapter?.dispose();
  }
}
