import * as tf from '@tensorflow/tfjs';

/**
 * WebGPU's default limit of storage buffers per shader stage is 8. tfjs-backend-webgpu 4.22's AddN
 * binds one per input plus the output and does not split, so past 7 inputs its pipeline is invalid
 * and the result is garbage, with only a Dawn validation message on stderr.
 */
const MAX_ADDN_INPUTS = 7;

/** The sum of same-shaped tensors, as tf.addN, in AddN calls small enough for every backend. */
export function sumTensors(tensors: tf.Tensor[]): tf.Tensor {
  if (tensors.length === 0) throw new Error('sumTensors needs at least one tensor');
  return tf.tidy(() => {
    let level = tensors;
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += MAX_ADDN_INPUTS) {
        const chunk = level.slice(i, i + MAX_ADDN_INPUTS);
        next.push(chunk.length === 1 ? chunk[0]! : tf.addN(chunk));
      }
      level = next;
    }
    return level[0]!.clone();
  });
}
