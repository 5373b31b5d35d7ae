/**
 * What bench/train-step.ts and its data-parallel worker (train-step-worker.ts) share: the model
 * under training (full or LoRA) built from a checkpoint directory, the step's examples, and the
 * summed gradients of a share of a batch.
 */
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURE_REGISTRY } from '../server/ml/architectures/registry.js';
import type { CausalLM } from '../server/ml/architectures/types.js';
import { readModelConfig } from '../server/ml/config.js';
import { createLoraModel, LoraAdapter } from '../server/ml/lora.js';
import { loadCheckpoint } from '../server/ml/safetensors.js';
import { fullTrainable } from '../server/train/full-trainable.js';
import { loraTrainable } from '../server/train/lora-trainable.js';
import { sumExampleGradients } from '../server/train/plans.js';
import type { TrainableModel, TrainExample } from '../server/train/trainer.js';

export type Mode = 'full' | 'lora';

export interface Built {
  trainable: TrainableModel;
  dispose(): void;
}

/** LoRA r=8 on every linear layer (attention and MLP; not the LM head). */
export const LORA = { targetModules: 'all-linear' as const, r: 8, seed: 3 };

export async function build(dir: string, mode: Mode): Promise<Built> {
  const config = await readModelConfig(dir);
  const checkpoint = await loadCheckpoint(dir);
  if (mode === 'full') {
    const model: CausalLM = ARCHITECTURE_REGISTRY[config.architecture](config, checkpoint, undefined, {
      trainable: true,
    });
    return { trainable: fullTrainable(model), dispose: () => model.dispose() };
  }
  const adapter = LoraAdapter.create(config, LORA);
  const model = createLoraModel(config, checkpoint, adapter);
  return {
    trainable: loraTrainable(model, adapter),
    dispose: () => {
      model.dispose();
      adapter.dispose();
    },
  };
}

/** `count` examples of `seq` tokens, every token after the first a target. */
export function examples(count: number, seq: number, vocab: number, seed: number): TrainExample[] {
  return Array.from({ length: count }, (_, e) => ({
    ids: Array.from({ length: seq }, (_, i) => (i * 7919 + e * 104729 + seed * 31) % vocab),
    targets: [{ start: 1, end: seq }],
  }));
}

/** Summed (not averaged) gradients and loss over `batch`, one example at a time, as the trainer does. */
export async function summedGradients(
  trainable: TrainableModel,
  batch: TrainExample[],
): Promise<{ grads: Float32Array[]; lossSum: number }> {
  const { summed, loss } = sumExampleGradients(trainable, batch);
  const lossSum = loss === null ? 0 : (await loss.data())[0]!;
  loss?.dispose();
  const grads = await Promise.all((summed ?? []).map(async (g) => (await g.data()) as Float32Array));
  if (summed) tf.dispose(summed);
  return { grads, lossSum };
}
