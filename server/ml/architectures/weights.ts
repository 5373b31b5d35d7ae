import * as tf from '@tensorflow/tfjs';
import type { Checkpoint } from '../safetensors.js';

/** A weight as the model holds it, under its checkpoint name. */
export interface NamedWeight {
  /** The checkpoint (Hugging Face) name. */
  name: string;
  tensor: tf.Tensor;
  /** Held as [in, out], stored as [out, in]: transpose back to save in the Hugging Face layout. */
  transposed: boolean;
}

export interface WeightLoaderOptions {
  /** Hold every weight as a tf.Variable, so that all of them can be trained (full fine-tuning). */
  trainable?: boolean;
}

/** Turns checkpoint tensors into tfjs tensors, remembering them so that they can all be freed. */
export class WeightLoader {
  private readonly held: NamedWeight[] = [];
  private readonly derived: tf.Tensor[] = [];
  readonly trainable: boolean;

  constructor(
    private readonly checkpoint: Checkpoint,
    private readonly prefix = '',
    options: WeightLoaderOptions = {},
  ) {
    this.trainable = options.trainable ?? false;
  }

  private hold<T extends tf.Tensor>(name: string, tensor: T, transposed: boolean): T {
    const held = this.trainable
      ? (tf.variable(tensor, true, `${name}${transposed ? '.T' : ''}`) as unknown as T)
      : tensor;
    if (held !== tensor) tensor.dispose();
    this.held.push({ name: this.prefix + name, tensor: held, transposed });
    return held;
  }

  /** The tensor `prefix + name`, which must have `shape`. */
  load<R extends tf.Rank>(name: string, shape: number[]): tf.Tensor<R> {
    const tensor = tf.tensor(
      this.checkpoint.get(this.prefix + name, shape).data,
      shape,
    ) as unknown as tf.Tensor<R>;
    return this.hold(name, tensor, false);
  }

  /**
   * A linear layer's weight `prefix + name`, stored [out, in] in the checkpoint, held transposed
   * as [in, out]: the wasm backend multiplies by a transposed operand several times slower.
   */
  loadTransposed(name: string, shape: [number, number]): tf.Tensor2D {
    const stored = tf.tensor2d(this.checkpoint.get(this.prefix + name, shape).data, shape);
    const transposed = stored.transpose() as tf.Tensor2D; // [out, in] -> [in, out]
    stored.dispose();
    return this.hold(name, transposed, true);
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
    return this.held.reduce((sum, w) => sum + w.tensor.size, 0);
  }

  /** Every loaded weight, in load order. */
  get weights(): readonly NamedWeight[] {
    return this.held;
  }

  dispose(): void {
    for (const t of [...this.held.map((w) => w.tensor), ...this.derived]) t.dispose();
    this.held.length = 0;
    this.derived.length = 0;
  }
}
