import * as tf from '@tensorflow/tfjs';
import type { Checkpoint } from '../safetensors.js';

/** Turns checkpoint tensors into tfjs tensors, remembering them so that they can all be freed. */
export class WeightLoader {
  private readonly held: tf.Tensor[] = [];

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
    for (const t of this.held) t.dispose();
    this.held.length = 0;
  }
}
