/**
 * Reference GPT-2 forward pass in float64, one token at a time, written from the equations of
 * transformers' modeling_gpt2.py, to check the tfjs model against.
 */
import { add, attend, linearInOut, linearOutIn, row, type Weights, weight } from './math.js';

interface Gpt2Config {
  n_embd: number;
  n_head: number;
  n_layer: number;
  layer_norm_epsilon: number;
}

function layerNorm(x: number[], w: Float32Array, b: Float32Array, eps: number): number[] {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * w[i]! + b[i]!);
}

const geluNew = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

export function referenceGpt2Logits(config: Gpt2Config, weights: Weights, ids: number[]): number[][] {
  const { n_embd: e, n_head: heads, n_layer: layers, layer_norm_epsilon: eps } = config;
  const w = (name: string) => weight(weights, `transformer.${name}`);
  const keys: number[][][] = Array.from({ length: layers }, () => []);
  const values: number[][][] = Array.from({ length: layers }, () => []);
  return ids.map((id, position) => {
    let x = add(row(w('wte.weight'), id, e), row(w('wpe.weight'), position, e));
    for (let l = 0; l < layers; l++) {
      const p = `h.${l}`;
      const n = layerNorm(x, w(`${p}.ln_1.weight`), w(`${p}.ln_1.bias`), eps);
      const qkv = linearInOut(w(`${p}.attn.c_attn.weight`), n, w(`${p}.attn.c_attn.bias`));
      keys[l]!.push(qkv.slice(e, 2 * e));
      values[l]!.push(qkv.slice(2 * e));
      const attention = attend(qkv.slice(0, e), keys[l]!, values[l]!, heads, heads);
      x = add(x, linearInOut(w(`${p}.attn.c_proj.weight`), attention, w(`${p}.attn.c_proj.bias`)));
      const n2 = layerNorm(x, w(`${p}.ln_2.weight`), w(`${p}.ln_2.bias`), eps);
      const hidden = linearInOut(w(`${p}.mlp.c_fc.weight`), n2, w(`${p}.mlp.c_fc.bias`)).map(geluNew);
      x = add(x, linearInOut(w(`${p}.mlp.c_proj.weight`), hidden, w(`${p}.mlp.c_proj.bias`)));
    }
    // The output projection is tied to the token embeddings, stored [vocab, n_embd].
    return linearOutIn(w('wte.weight'), layerNorm(x, w('ln_f.weight'), w('ln_f.bias'), eps));
  });
}
