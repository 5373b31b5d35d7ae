/** Float64 building blocks for the reference models: plain loops over plain arrays. */

/** Where the reference reads its weights (a loaded Checkpoint): float32 values by tensor name. */
export interface Weights {
  get(name: string): { data: Float32Array };
}

export function weight(weights: Weights, name: string): Float32Array {
  return weights.get(name).data;
}

/** y = W x for an nn.Linear weight stored [out, in]. */
export function linearOutIn(w: Float32Array, x: number[], bias?: Float32Array): number[] {
  const inDim = x.length;
  const outDim = w.length / inDim;
  const y: number[] = [];
  for (let o = 0; o < outDim; o++) {
    let sum = bias ? bias[o]! : 0;
    for (let i = 0; i < inDim; i++) sum += w[o * inDim + i]! * x[i]!;
    y.push(sum);
  }
  return y;
}

/** y = x W + b for a Conv1D weight stored [in, out]. */
export function linearInOut(w: Float32Array, x: number[], bias: Float32Array): number[] {
  const inDim = x.length;
  const outDim = w.length / inDim;
  const y: number[] = Array.from(bias);
  for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) y[o]! += x[i]! * w[i * outDim + o]!;
  return y;
}

export function row(matrix: Float32Array, index: number, width: number): number[] {
  return Array.from(matrix.subarray(index * width, (index + 1) * width));
}

export const add = (a: number[], b: number[]) => a.map((v, i) => v + b[i]!);

/**
 * One query against the keys and values seen so far (this position included): softmax(q k / sqrt(d)) v,
 * per query head, kv head = floor(head / (heads / kvHeads)).
 */
export function attend(
  q: number[],
  keys: number[][],
  values: number[][],
  heads: number,
  kvHeads: number,
): number[] {
  const d = q.length / heads;
  const group = heads / kvHeads;
  const out: number[] = [];
  for (let h = 0; h < heads; h++) {
    const kv = Math.floor(h / group);
    const scores = keys.map((k) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += q[h * d + j]! * k[kv * d + j]!;
      return s / Math.sqrt(d);
    });
    const max = Math.max(...scores);
    const exps = scores.map((s) => Math.exp(s - max));
    const total = exps.reduce((a, b) => a + b, 0);
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let s = 0; s < keys.length; s++) sum += (exps[s]! / total) * values[s]![kv * d + j]!;
      out.push(sum);
    }
  }
  return out;
}
