/**
 * bench/train-step.ts's data-parallel helper thread: holds a replica of the model under training,
 * takes the trained variables' new values after each update, and returns the summed gradients of
 * its share of each batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../server/ml/backend.js';
import { loadSgemm, registerNativeMatMul } from '../server/ml/kernels/native-matmul.js';
import type { TrainExample } from '../server/train/trainer.js';
import { build, type Mode, summedGradients } from './train-step-setup.js';

export interface WorkerSetup {
  dir: string;
  mode: Mode;
  native: boolean;
}
export type ToStepWorker = { weights: Float32Array[] | null; batch: TrainExample[] };
export type FromStepWorker =
  | { type: 'ready' }
  | { type: 'grads'; grads: Float32Array[]; lossSum: number }
  | { type: 'failed'; error: string };

const port = parentPort!;
const setup = workerData as WorkerSetup;
try {
  await selectBackend('wasm');
  if (setup.native) {
    if (!registerNativeMatMul('wasm')) throw new Error('native/sgemm is not available');
    loadSgemm()!.setThreads(1);
  }
  const built = await build(setup.dir, setup.mode);
  const { variables } = built.trainable;
  port.on('message', async ({ weights, batch }: ToStepWorker) => {
    try {
      if (weights) {
        variables.forEach((v, i) => {
          const value = tf.tensor(weights[i]!, v.shape);
          v.assign(value);
          value.dispose();
        });
      }
      const { grads, lossSum } = await summedGradients(built.trainable, batch);
      const message: FromStepWorker = { type: 'grads', grads, lossSum };
      port.postMessage(
        message,
        grads.map((g) => g.buffer as ArrayBuffer),
      );
    } catch (error) {
      port.postMessage({ type: 'failed', error: (error as Error).message } satisfies FromStepWorker);
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromStepWorker);
} catch (error) {
  port.postMessage({ type: 'failed', error: (error as Error).message } satisfies FromStepWorker);
}
