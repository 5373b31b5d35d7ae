/**
 * Per-unit gradients, two ways. Both return one tensor per trainable variable with a leading
 * units axis, [units, ...variable shape], ready for clip.ts.
 *
 * - microbatch: one backward pass per unit (tf.variableGrads on that unit's examples). Works for
 *   any model whose loss reads its variables.
 * - vectorized: one backward pass for the whole batch, with the variables tiled so that every
 *   example has its own copy; the gradient with respect to copy b is example b's gradient. Needs
 *   the loss written against explicit, batched parameters.
 */
import * as tf from '@tensorflow/tfjs';

/** Per-example losses [rows] of a batch, reading the trainable variables. */
export type ExampleLoss = (xs: tf.Tensor, ys: tf.Tensor) => tf.Tensor1D;

/**
 * Per-example losses [rows] where `params[k]` has shape [rows, ...variables[k].shape] and row b of
 * every parameter is used by example b only.
 */
export type BatchedParamsLoss = (params: tf.Tensor[], xs: tf.Tensor, ys: tf.Tensor) => tf.Tensor1D;

/** A batch of rows, and for each row its unit's position (0 … unitCount − 1). */
export interface UnitBatch {
  xs: tf.Tensor;
  ys: tf.Tensor;
  unitIds: readonly number[];
  unitCount: number;
}

/** A batch whose unit ids do not line up with its rows would silently break the clipping bound. */
export function checkBatch(batch: UnitBatch): void {
  const rows = batch.unitIds.length;
  if (batch.xs.shape[0] !== rows || batch.ys.shape[0] !== rows) {
    throw new RangeError(
      `a batch needs one unit id per row: ${rows} ids for ${batch.xs.shape[0]} inputs and ${batch.ys.shape[0]} labels`,
    );
  }
  for (const unit of batch.unitIds) {
    if (!(Number.isInteger(unit) && unit >= 0 && unit < batch.unitCount)) {
      throw new RangeError(`unit id ${unit} is outside 0 … ${batch.unitCount - 1}`);
    }
  }
}

function rowsByUnit(unitIds: readonly number[], unitCount: number): number[][] {
  const rows: number[][] = Array.from({ length: unitCount }, () => []);
  unitIds.forEach((unit, row) => {
    rows[unit]!.push(row);
  });
  return rows;
}

/** One tf.variableGrads per unit: the gradient of the unit's summed loss. */
export function microbatchGrads(loss: ExampleLoss, variables: tf.Variable[], batch: UnitBatch): tf.Tensor[] {
  checkBatch(batch);
  const perUnit: tf.Tensor[][] = variables.map(() => []);
  try {
    for (const rows of rowsByUnit(batch.unitIds, batch.unitCount)) {
      const grads = tf.tidy(() => {
        const index = tf.tensor1d(rows, 'int32');
        const xs = tf.gather(batch.xs, index);
        const ys = tf.gather(batch.ys, index);
        const { value, grads } = tf.variableGrads(() => tf.sum(loss(xs, ys)) as tf.Scalar, variables);
        value.dispose();
        return variables.map((v) => grads[v.name] ?? tf.zerosLike(v));
      });
      grads.forEach((grad, k) => {
        perUnit[k]!.push(grad);
      });
    }
    return perUnit.map((grads, k) =>
      grads.length === 0 ? tf.zeros([0, ...variables[k]!.shape]) : tf.stack(grads),
    );
  } finally {
    for (const grads of perUnit) tf.dispose(grads);
  }
}

/** One backward pass over tiled parameters; rows of the same unit are then summed. */
export function vectorizedGrads(
  loss: BatchedParamsLoss,
  variables: tf.Variable[],
  batch: UnitBatch,
): tf.Tensor[] {
  checkBatch(batch);
  const rows = batch.unitIds.length;
  return tf.tidy(() => {
    if (rows === 0) return variables.map((v) => tf.zeros([0, ...v.shape]));
    const tiled = variables.map((v) => tf.tile(tf.expandDims(v, 0), [rows, ...v.shape.map(() => 1)]));
    const perExample = tf.grads((...params: tf.Tensor[]) => tf.sum(loss(params, batch.xs, batch.ys)))(tiled);
    if (batch.unitIds.every((unit, row) => unit === row) && batch.unitCount === rows) return perExample;
    return sumByUnit(perExample, batch.unitIds, batch.unitCount);
  });
}

/** Sums example rows into unit rows: row r of every tensor goes to unit `unitIds[r]`. */
export function sumByUnit(
  perExample: tf.Tensor[],
  unitIds: readonly number[],
  unitCount: number,
): tf.Tensor[] {
  return tf.tidy(() => {
    const ids = tf.tensor1d(unitIds as number[], 'int32');
    return perExample.map((grad) => tf.unsortedSegmentSum(grad, ids, unitCount));
  });
}
