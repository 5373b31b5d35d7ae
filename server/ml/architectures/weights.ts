import * as tf from '@tensorflow/tfjs';
import type { Checkpoint } from '../safetensors.js';

/** Turns checkpoint tensors into tfjs tensors, remembering them so that they can all be freed. */
export class WeightLoader {
  private readonly held: tf.Tensor[] = [];
  private readonly derived: tf.Tensor[] = [];

  constructor(
    private readonly checkpoint: Checkpoint,
    private readonly prefix = '',
  ) {}

  /** The tensor `prefix + name`, which must have `shape`. */
  load<R extends tf.Rank>(name: string, shape: number[]): tf.Tensor<R> {
    const tensor = tf.tensor(
      this.checkpoint.get(this.prefix + name, shape).data,
      shape,
    ) as unknown as tf.Tensor<R>;
    this.held.push(tensor);
    return tensor;
  }

  /**
   * A linear layer's weight `prefix + name`, stored [out, in] in the checkpoint, held transposed
   * as [in, out]: the wasm backend multiplies by a transposed operand several times slower.
   */
  loadTransposed(name: string, shape: [number, number]): tf.Tensor2D {
    const stored = tf.tensor2d(this.checkpoint.get(this.prefix + name, shape).data, shape);
    const transposed = stored.transpose() as tf.Tensor2D; // [out, in] -> [in, out]
    stored.dispose();
    this.held.push(transposed);
    return transposed;
  }

  /** Holds a tensor derived from loaded ones (freed with them; not counted as parameters). */
  derive<T extends tf.Tensor>(tensor: T): T {
    this.derived.push(tensor);
    return tensor;
  }

  /** Runs `build`; if it throws, frees what was loaded so far, so a failed load leaks nothing. */
  build<T>(build: () => T): T {
    try {
      return build();
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  get parameterCount(): number {
    return this.held.reduce((sum, t) => sum + t.size, 0);
  }

  dispose(): void {
    for (const t of [...this.held, ...this.derived]) t.dispose();
    this.held.length = 0;
    this.derived.length = 0;
  }
}
