/** A model's current weights in the Hugging Face layout, e.g. after full fine-tuning, ready to save. */
import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from './architectures/types.js';
import type { FloatTensor } from './safetensors.js';

/** Read asynchronously, so that it works on every backend (webgpu has no synchronous reads in Node). */
export async function modelTensors(model: CausalLM): Promise<Record<string, FloatTensor>> {
  const tensors: Record<string, FloatTensor> = {};
  for (const { name, tensor, transposed } of model.weights) {
    const stored = transposed ? tf.transpose(tensor) : tensor; // [in, out] -> [out, in]
    tensors[name] = { shape: stored.shape, data: (await stored.data()) as Float32Array };
    if (stored !== tensor) stored.dispose();
  }
  return tensors;
}
