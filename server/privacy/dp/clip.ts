/**
 * Per-unit gradient clipping. Gradients come stacked: one tensor per trainable variable, with a
 * leading axis over units (examples or customers), [units, ...variable shape].
 */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../../ml/sum-tensors.js';

/** Opacus' guard against dividing by a zero norm. */
const NORM_EPSILON = 1e-6;

/** Global L2 norm of each unit's gradient over all variables: [units]. */
export function unitNorms(grads: tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => {
    const squares = grads.map((grad) => tf.sum(tf.square(grad.reshape([grad.shape[0]!, -1])), 1));
    return tf.sqrt(sumTensors(squares)) as tf.Tensor1D;
  });
}

/** min(1, C / (norm + 1e-6)) per unit. */
export function clipFactors(norms: tf.Tensor1D, clipNorm: number): tf.Tensor1D {
  if (!(clipNorm > 0 && Number.isFinite(clipNorm)))
    throw new RangeError(`clipNorm must be > 0, got ${clipNorm}`);
  return tf.tidy(() => tf.minimum(tf.div(clipNorm, tf.add(norms, NORM_EPSILON)), 1) as tf.Tensor1D);
}

/** Each unit's gradient scaled to global norm at most C; same shapes as the input. */
export function clipPerUnit(grads: tf.Tensor[], clipNorm: number): tf.Tensor[] {
  return tf.tidy(() => {
    const factors = clipFactors(unitNorms(grads), clipNorm);
    return grads.map((grad) => tf.mul(grad, factors.reshape([-1, ...grad.shape.slice(1).map(() => 1)])));
  });
}

/** Σ over units of the clipped gradients, one tensor per variable (without the units axis). */
export function clipAndSum(grads: tf.Tensor[], clipNorm: number): tf.Tensor[] {
  return tf.tidy(() => clipPerUnit(grads, clipNorm).map((grad) => tf.sum(grad, 0)));
}
