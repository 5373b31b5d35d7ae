/** Folding a LoRA adapter into its base weights: W + (alpha/r)·B·A, transposed for Conv1D. */
import * as tf from '@tensorflow/tfjs';
import type { LoraAdapter } from './lora.js';
import { weightName } from './lora-modules.js';
import {
  Checkpoint,
  checkShape,
  DTYPES,
  encodeFromFloat32,
  type FloatTensor,
  type StoredTensor,
} from './safetensors.js';

/**
 * Every float tensor of `checkpoint` as float32, the adapted projections with their LoRA term folded
 * in. Non-float tensors (integer buffers some checkpoints carry) are left out: no model reads them.
 */
export function mergeLoraWeights(checkpoint: Checkpoint, adapter: LoraAdapter): Record<string, FloatTensor> {
  const tensors: Record<string, FloatTensor> = {};
  for (const [name, stored] of checkpoint.stored) {
    if ((DTYPES as readonly string[]).includes(stored.dtype)) tensors[name] = checkpoint.get(name);
  }
  const hasPrefix = checkpoint.has('transformer.wte.weight');
  for (const { module, a, b } of adapter.pairs) {
    const name = weightName(module, module.name.startsWith('transformer.') ? hasPrefix : true);
    const base = tensors[name];
    if (!base) throw new Error(`${checkpoint.source} has no tensor ${name} to merge the adapter into`);
    checkShape(
      name,
      base.shape,
      module.fanInFanOut ? [module.inDim, module.outDim] : [module.outDim, module.inDim],
    );
    // Read the data after tidy: tidy walks whatever it returns, element by element for an array.
    const merged = tf.tidy(() => {
      const delta = tf.matMul(b, a).mul(adapter.scaling); // [out, in]
      const w = tf.tensor(base.data, base.shape);
      return w.add(module.fanInFanOut ? delta.transpose() : delta);
    });
    const data = merged.dataSync() as Float32Array;
    merged.dispose();
    tensors[name] = { shape: base.shape, data };
  }
  return tensors;
}

/** A Checkpoint over float32 tensors held in memory, so that a model can be built from them. */
export function checkpointFromTensors(tensors: Record<string, FloatTensor>, source: string): Checkpoint {
  const stored = new Map<string, StoredTensor>();
  for (const [name, t] of Object.entries(tensors)) {
    stored.set(name, { dtype: 'F32', shape: t.shape, bytes: encodeFromFloat32(t.data, 'F32') });
  }
  return new Checkpoint(stored, source);
}
