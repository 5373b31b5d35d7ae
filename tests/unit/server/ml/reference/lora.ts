/** Float64 LoRA arithmetic, written from PEFT's equations, to check the tfjs adapter against. */
import type { Weights } from './math.js';

/** x [T, in] · Aᵀ [in, r] · Bᵀ [r, out] · scale, in float64. */
export function referenceDelta(x: number[][], a: number[][], b: number[][], scale: number): number[][] {
  return x.map((row) => {
    const down = a.map((aRow) => aRow.reduce((s, v, i) => s + v * row[i]!, 0));
    return b.map((bRow) => scale * bRow.reduce((s, v, k) => s + v * down[k]!, 0));
  });
}

export interface ReferencePair {
  /** Checkpoint name of the base weight, e.g. "model.layers.0.self_attn.q_proj.weight". */
  weightName: string;
  /** Conv1D weight stored [in, out] rather than [out, in]. */
  fanInFanOut: boolean;
  a: number[][];
  b: number[][];
}

/** The base weights with scale · B A added (transposed for Conv1D), summed in float64. */
export function referenceMergedWeights(base: Weights, pairs: ReferencePair[], scale: number): Weights {
  const merged = new Map<string, Float32Array>();
  for (const { weightName, fanInFanOut, a, b } of pairs) {
    const w = Float64Array.from(base.get(weightName).data);
    const outDim = b.length;
    const inDim = a[0]!.length;
    for (let o = 0; o < outDim; o++) {
      for (let i = 0; i < inDim; i++) {
        let ba = 0;
        for (let k = 0; k < a.length; k++) ba += b[o]![k]! * a[k]![i]!;
        w[fanInFanOut ? i * outDim + o : o * inDim + i]! += scale * ba;
      }
    }
    merged.set(weightName, Float32Array.from(w));
  }
  return { get: (name) => ({ data: merged.get(name) ?? base.get(name).data }) };
}
