/**
 * Reference Llama / Qwen2 forward pass in float64, one token at a time, written from the equations
 * of transformers' modeling_llama.py and modeling_qwen2.py, to check the tfjs model against.
 */
import { add, attend, linearOutIn, row, type Weights, weight } from './math.js';

interface LlamaConfig {
  model_type: string;
  hidden_size: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  num_hidden_layers: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling?: {
    factor: number;
    low_freq_factor: number;
    high_freq_factor: number;
    original_max_position_embeddings: number;
  } | null;
  vocab_size: number;
  tie_word_embeddings: boolean;
}

function rmsNorm(x: number[], w: Float32Array, eps: number): number[] {
  const meanSquare = x.reduce((s, v) => s + v * v, 0) / x.length;
  const scale = 1 / Math.sqrt(meanSquare + eps);
  return x.map((v, i) => v * scale * w[i]!);
}

/**
 * The frequency of pair j: theta^(-2j/d), or with Llama 3 scaling, following transformers'
 * _compute_llama3_parameters: wavelengths above original_context/low_freq_factor divided by the
 * factor, below original_context/high_freq_factor kept, in between smoothly mixed.
 */
function frequency(j: number, d: number, theta: number, scaling: LlamaConfig['rope_scaling']): number {
  const base = theta ** ((-2 * j) / d);
  if (!scaling) return base;
  const wavelength = (2 * Math.PI) / base;
  const old = scaling.original_max_position_embeddings;
  if (wavelength < old / scaling.high_freq_factor) return base;
  if (wavelength > old / scaling.low_freq_factor) return base / scaling.factor;
  const smooth =
    (old / wavelength - scaling.low_freq_factor) / (scaling.high_freq_factor - scaling.low_freq_factor);
  return (1 - smooth) * (base / scaling.factor) + smooth * base;
}

/** Rotates each head's pairs (j, j + d/2) by position * frequency(j): HF's rotate_half. */
function rope(
  x: number[],
  heads: number,
  position: number,
  theta: number,
  scaling: LlamaConfig['rope_scaling'] = null,
): number[] {
  const d = x.length / heads;
  const half = d / 2;
  const out = x.slice();
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      const angle = position * frequency(j, d, theta, scaling);
      const a = x[h * d + j]!;
      const b = x[h * d + j + half]!;
      out[h * d + j] = a * Math.cos(angle) - b * Math.sin(angle);
      out[h * d + j + half] = b * Math.cos(angle) + a * Math.sin(angle);
    }
  }
  return out;
}

const silu = (v: number) => v / (1 + Math.exp(-v));

export function referenceLlamaLogits(config: LlamaConfig, weights: Weights, ids: number[]): number[][] {
  const c = config;
  const w = (name: string) => weight(weights, name);
  const bias = (name: string) => (c.model_type === 'qwen2' ? w(name) : undefined);
  const keys: number[][][] = Array.from({ length: c.num_hidden_layers }, () => []);
  const values: number[][][] = Array.from({ length: c.num_hidden_layers }, () => []);
  const lmHead = c.tie_word_embeddings ? w('model.embed_tokens.weight') : w('lm_head.weight');
  return ids.map((id, position) => {
    let x = row(w('model.embed_tokens.weight'), id, c.hidden_size);
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const p = `model.layers.${l}`;
      const n = rmsNorm(x, w(`${p}.input_layernorm.weight`), c.rms_norm_eps);
      const q = rope(
        linearOutIn(w(`${p}.self_attn.q_proj.weight`), n, bias(`${p}.self_attn.q_proj.bias`)),
        c.num_attention_heads,
        position,
        c.rope_theta,
        c.rope_scaling,
      );
      keys[l]!.push(
        rope(
          linearOutIn(w(`${p}.self_attn.k_proj.weight`), n, bias(`${p}.self_attn.k_proj.bias`)),
          c.num_key_value_heads,
          position,
          c.rope_theta,
          c.rope_scaling,
        ),
      );
      values[l]!.push(linearOutIn(w(`${p}.self_attn.v_proj.weight`), n, bias(`${p}.self_attn.v_proj.bias`)));
      const attention = attend(q, keys[l]!, values[l]!, c.num_attention_heads, c.num_key_value_heads);
      x = add(x, linearOutIn(w(`${p}.self_attn.o_proj.weight`), attention));
      const n2 = rmsNorm(x, w(`${p}.post_attention_layernorm.weight`), c.rms_norm_eps);
      const gate = linearOutIn(w(`${p}.mlp.gate_proj.weight`), n2);
      const up = linearOutIn(w(`${p}.mlp.up_proj.weight`), n2);
      x = add(
        x,
        linearOutIn(
          w(`${p}.mlp.down_proj.weight`),
          gate.map((g, i) => silu(g) * up[i]!),
        ),
      );
    }
    return linearOutIn(lmHead, rmsNorm(x, w('model.norm.weight'), c.rms_norm_eps));
  });
}
