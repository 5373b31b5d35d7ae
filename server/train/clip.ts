import type * as tf from '@tensorflow/tfjs';
import { clipPerUnit, unitNorms } from '../privacy/dp/clip.js';

/** Scales the gradients together so their global L2 norm is at most `maxNorm`; returns the norm before. */
export async function clipByGlobalNorm(
  grads: tf.Tensor[],
  maxNorm: number,
): Promise<{ grads: tf.Tensor[]; norm: number }> {
  // One "unit" holding every gradient: the DP module's per-unit clipping does the rest.
  const stacked = grads.map((grad) => grad.expandDims(0));
  const norms = unitNorms(stacked);
  const norm = (await norms.data())[0]!;
  norms.dispose();
  const clipped = clipPerUnit(stacked, maxNorm).map((grad) => {
    const squeezed = grad.squeeze([0]);
    grad.dispose();
    return squeezed;
  });
  for (const tensor of stacked) tensor.dispose();
  return { grads: clipped, norm };
}
