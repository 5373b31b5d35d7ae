import * as tf from '@tensorflow/tfjs';

/** [S, Hkv, D] -> [S, Hkv * nRep, D], kv head i serving query heads i*nRep .. i*nRep+nRep-1 (HF repeat_kv). */
export function repeatKv(x: tf.Tensor3D, nRep: number): tf.Tensor3D {
  if (nRep === 1) return x;
  const [s, hkv, d] = x.shape;
  return x
    .reshape([s, hkv, 1, d]) // [S, Hkv, 1, D]
    .tile([1, 1, nRep, 1])
    .reshape([s, hkv * nRep, d]); // [S, H, D]
}

/**
 * Causal scaled dot-product attention of T new queries at positions offset..offset+T-1 over S keys
 * at positions 0..S-1 (S = offset + T). q [T, H, D], k and v [S, Hkv, D]; returns [T, H * D].
 */
export function causalAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, offset: number): tf.Tensor2D {
  const [t, h, d] = q.shape;
  const s = k.shape[0];
  if (s !== offset + t) throw new Error(`attention over ${s} keys for ${t} queries at offset ${offset}`);
  if (h % k.shape[1] !== 0) throw new Error(`${h} query heads do not share ${k.shape[1]} kv heads evenly`);
  const nRep = h / k.shape[1];
  const qh = q.transpose([1, 0, 2]); // [H, T, D]
  const kh = repeatKv(k, nRep).transpose([1, 0, 2]); // [H, S, D]
  const vh = repeatKv(v, nRep).transpose([1, 0, 2]); // [H, S, D]
  const mask = new Float32Array(t * s);
  for (let i = 0; i < t; i++) for (let j = offset + i + 1; j < s; j++) mask[i * s + j] = -1e9;
  const scores = tf
    .matMul(qh, kh, false, true) // [H, T, S]
    .mul(1 / Math.sqrt(d))
    .add(tf.tensor2d(mask, [t, s]));
  const out = tf.matMul(tf.softmax(scores, -1), vh); // [H, T, D]
  return out.transpose([1, 0, 2]).reshape([t, h * d]); // [T, H * D]
}

/** Throws unless every id is an integer token of the vocabulary and the positions fit the context. */
export function checkIds(ids: number[], vocabSize: number, offset: number, contextLength: number): void {
  if (ids.length === 0) throw new Error('no token ids');
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new Error(`token id ${id} is not an integer in [0, ${vocabSize})`);
    }
  }
  if (offset + ids.length > contextLength) {
    throw new Error(`${offset + ids.length} positions exceed the context length ${contextLength}`);
  }
}
