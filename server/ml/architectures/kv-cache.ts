import * as tf from '@tensorflow/tfjs';

/** Keys and values of every layer for the positions seen so far, each [S, kvHeads, headDim]. */
export class KvCache {
  private readonly keys: (tf.Tensor3D | undefined)[];
  private readonly values: (tf.Tensor3D | undefined)[];
  /** Positions held. */
  length = 0;

  constructor(readonly numLayers: number) {
    this.keys = new Array(numLayers).fill(undefined);
    this.values = new Array(numLayers).fill(undefined);
  }

  /**
   * Appends one layer's new keys and values ([T, kvHeads, headDim]) and returns the whole of them
   * ([length + T, kvHeads, headDim]). The cache keeps its own references (tf.keep), so this may run
   * inside tf.tidy; call commit(T) once every layer has appended.
   */
  append(layer: number, k: tf.Tensor3D, v: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D] {
    if (layer < 0 || layer >= this.numLayers) throw new Error(`KV cache has no layer ${layer}`);
    const oldK = this.keys[layer];
    const oldV = this.values[layer];
    if ((oldK?.shape[0] ?? 0) !== this.length) {
      throw new Error(
        `KV cache layer ${layer} holds ${oldK?.shape[0] ?? 0} positions, expected ${this.length}`,
      );
    }
    const allK = tf.keep(oldK ? tf.concat([oldK, k], 0) : k.clone()); // [S, Hkv, D]
    const allV = tf.keep(oldV ? tf.concat([oldV, v], 0) : v.clone()); // [S, Hkv, D]
    oldK?.dispose();
    oldV?.dispose();
    this.keys[layer] = allK;
    this.values[layer] = allV;
    return [allK, allV];
  }

  commit(added: number): void {
    this.length += added;
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(undefined);
    this.values.fill(undefined);
    this.length = 0;
  }
}
