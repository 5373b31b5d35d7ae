/**
 * The llama (and qwen2) decoder as an ONNX graph in the layout transformers.js's
 * AutoModelForCausalLM runs: inputs input_ids, attention_mask, position_ids, num_logits_to_keep and
 * past_key_values.{i}.key/value; outputs logits and present.{i}.key/value; float32; standard ONNX ops
 * only (opset 17). The same network as server/ml/architectures/llama.ts: RMSNorm, RoPE in HF's
 * rotate_half layout, grouped-query attention, SwiGLU, lm_head tied or not.
 */

import { ropeInverseFrequencies } from '../architectures/rope.js';
import type { ModelConfig } from '../config.js';
import type { Checkpoint } from '../safetensors.js';
import { GraphBuilder } from './graph.js';
import { DataType } from './proto.js';

export const ONNX_OPSET = 17;

/** Large negative score for masked positions: what Parley's tfjs attention adds, too. */
const MASKED = -1e9;

/** [rows, cols] row-major -> [cols, rows]: an nn.Linear weight [out, in] becomes MatMul's [in, out]. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c]!;
  }
  return out;
}

export function buildLlamaGraph(config: ModelConfig, checkpoint: Checkpoint): GraphBuilder {
  if (config.architecture !== 'llama' && config.architecture !== 'qwen2') {
    throw new Error(`the ONNX llama graph cannot export a ${config.architecture} model`);
  }
  const {
    hiddenSize: h,
    intermediateSize: inter,
    numHeads,
    numKvHeads,
    headDim: d,
    vocabSize,
    numLayers,
    normEps,
  } = config;
  const groups = numHeads / numKvHeads;
  const g = new GraphBuilder();

  // Weights come straight from the checkpoint when the file is written; linear weights transposed.
  const weight = (name: string, shape: number[]) =>
    g.initializer(name, shape, () => checkpoint.get(name, shape).data);
  const linearWeight = (name: string, out: number, inp: number) =>
    g.initializer(`${name}.T`, [inp, out], () =>
      transpose2d(checkpoint.get(name, [out, inp]).data, out, inp),
    );

  const inputIds = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const past: [string, string][] = [];
  for (let i = 0; i < numLayers; i++) {
    past.push([
      g.input(`past_key_values.${i}.key`, DataType.FLOAT, [
        'batch_size',
        numKvHeads,
        'past_sequence_length',
        d,
      ]),
      g.input(`past_key_values.${i}.value`, DataType.FLOAT, [
        'batch_size',
        numKvHeads,
        'past_sequence_length',
        d,
      ]),
    ]);
  }
  const keepLogits = g.input('num_logits_to_keep', DataType.INT64, []);

  const axes = (values: number[]) => g.int64(values);
  const unsqueeze = (x: string, a: number[]) => g.node('Unsqueeze', [x, axes(a)]);
  const reshape = (x: string, shape: number[]) => g.node('Reshape', [x, g.int64(shape)]);
  const transpose = (x: string, perm: number[]) => g.node('Transpose', [x], { perm });
  const matMul = (a: string, b: string) => g.node('MatMul', [a, b]);

  // Sizes read at run time: S new tokens, T = past + S positions attended to.
  const scalarAt = (shapeOf: string, index: number) =>
    g.node('Gather', [g.node('Shape', [shapeOf]), g.int64([index], [])], { axis: 0 });
  const seqLen = scalarAt(inputIds, 1); // S
  const totalLen = scalarAt(attentionMask, 1); // T
  const pastLen = g.node('Sub', [totalLen, seqLen]); // P = T - S

  // Mask [B, 1, groups * S, T]: query i (at position P + i) sees key j when j <= P + i and
  // attention_mask[b, j] is 1. Rows repeat per query head of a kv group (see attention below).
  const zero = g.int64([0], []);
  const one = g.int64([1], []);
  const keyIndex = g.node('Range', [zero, totalLen, one]); // [T]
  const queryIndex = unsqueeze(g.node('Range', [pastLen, totalLen, one]), [1]); // [S, 1]
  let causal = g.node('LessOrEqual', [keyIndex, queryIndex]); // [S, T]
  if (groups > 1) causal = g.node('Tile', [causal, g.int64([groups, 1])]); // [groups * S, T]
  const padding = unsqueeze(g.node('Cast', [attentionMask], { to: DataType.BOOL }), [1, 2]); // [B, 1, 1, T]
  const allowed = g.node('And', [causal, padding]); // [B, 1, groups * S, T]
  const maskBias = g.node('Where', [allowed, g.float([0], []), g.float([MASKED], [])]);

  // RoPE tables [B, 1, S, D] from position_ids: HF's cat(freqs, freqs) layout.
  const inverse = Array.from(ropeInverseFrequencies(d, config.ropeTheta, config.ropeScaling));
  const positions = unsqueeze(g.node('Cast', [positionIds], { to: DataType.FLOAT }), [2]); // [B, S, 1]
  const freqs = g.node('Mul', [positions, g.float(inverse, [d / 2])]); // [B, S, D/2]
  const angles = unsqueeze(g.node('Concat', [freqs, freqs], { axis: -1 }), [1]); // [B, 1, S, D]
  const cos = g.node('Cos', [angles]);
  const sin = g.node('Sin', [angles]);
  const halves = g.int64([d / 2, d / 2]);
  const rope = (x: string) => {
    // x [B, heads, S, D]: x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x2, x1).
    const [x1, x2] = g.nodeMulti('Split', [x, halves], 2, { axis: -1 });
    const rotated = g.node('Concat', [g.node('Neg', [x2!]), x1!], { axis: -1 });
    return g.node('Add', [g.node('Mul', [x, cos]), g.node('Mul', [rotated, sin])]);
  };

  const eps = g.float([normEps], []);
  const two = g.float([2], []);
  // RMSNorm as Pow, ReduceMean, Add, Sqrt, Div, Mul: the pattern ORT fuses into SimplifiedLayerNormalization.
  const rmsNorm = (x: string, name: string) => {
    const meanSquare = g.node('ReduceMean', [g.node('Pow', [x, two])], { axes: [-1], keepdims: 1 });
    const normed = g.node('Div', [x, g.node('Sqrt', [g.node('Add', [meanSquare, eps])])]);
    return g.node('Mul', [normed, weight(name, [h])]);
  };
  const scale = g.float([1 / Math.sqrt(d)], []);

  let x = g.node('Gather', [weight('model.embed_tokens.weight', [vocabSize, h]), inputIds], { axis: 0 }); // [B, S, H]
  for (let i = 0; i < numLayers; i++) {
    const p = `model.layers.${i}`;
    const project = (module: string, input: string, out: number, inp: number, bias: boolean) => {
      const y = matMul(input, linearWeight(`${p}.${module}.weight`, out, inp));
      return bias ? g.node('Add', [y, weight(`${p}.${module}.bias`, [out])]) : y;
    };
    const normed = rmsNorm(x, `${p}.input_layernorm.weight`);
    const heads = (y: string, n: number) => transpose(reshape(y, [0, 0, n, d]), [0, 2, 1, 3]); // [B, S, n*D] -> [B, n, S, D]
    const q = rope(heads(project('self_attn.q_proj', normed, numHeads * d, h, config.qkvBias), numHeads));
    const k = rope(heads(project('self_attn.k_proj', normed, numKvHeads * d, h, config.qkvBias), numKvHeads));
    const v = heads(project('self_attn.v_proj', normed, numKvHeads * d, h, config.qkvBias), numKvHeads);
    const [pastK, pastV] = past[i]!;
    const allK = g.node('Concat', [pastK, k], { axis: 2 }, `present.${i}.key`); // [B, Hkv, T, D]
    const allV = g.node('Concat', [pastV, v], { axis: 2 }, `present.${i}.value`); // [B, Hkv, T, D]
    // Grouped-query attention without copying keys: the query heads of kv head j are heads
    // j*groups .. j*groups+groups-1, so [B, H, S, D] reshapes to [B, Hkv, groups*S, D].
    const grouped = reshape(g.node('Mul', [q, scale]), [0, numKvHeads, -1, d]); // [B, Hkv, groups*S, D]
    const scores = g.node('Add', [matMul(grouped, transpose(allK, [0, 1, 3, 2])), maskBias]); // [B, Hkv, groups*S, T]
    const context = matMul(g.node('Softmax', [scores], { axis: -1 }), allV); // [B, Hkv, groups*S, D]
    const merged = reshape(transpose(reshape(context, [0, numHeads, -1, d]), [0, 2, 1, 3]), [
      0,
      0,
      numHeads * d,
    ]); // [B, S, H*D]
    x = g.node('Add', [x, project('self_attn.o_proj', merged, h, numHeads * d, false)]);
    const normed2 = rmsNorm(x, `${p}.post_attention_layernorm.weight`);
    const gate = project('mlp.gate_proj', normed2, inter, h, false); // [B, S, I]
    const silu = g.node('Mul', [gate, g.node('Sigmoid', [gate])]);
    const swiglu = g.node('Mul', [silu, project('mlp.up_proj', normed2, inter, h, false)]);
    x = g.node('Add', [x, project('mlp.down_proj', swiglu, h, inter, false)]);
  }

  // Only the last num_logits_to_keep positions reach lm_head (0: all of them).
  const keepAll = g.node('Equal', [keepLogits, zero]);
  const kept = g.node('Where', [keepAll, seqLen, keepLogits]);
  const start = unsqueeze(g.node('Sub', [seqLen, kept]), [0]); // [1]
  const tail = g.node('Slice', [x, start, g.int64([2 ** 53 - 1]), g.int64([1])]); // [B, K, H]
  const final = rmsNorm(tail, 'model.norm.weight');
  // lm_head through Gemm with transB, so that a tied head shares the embedding instead of a transposed copy.
  const headWeight = config.tieWordEmbeddings
    ? 'model.embed_tokens.weight'
    : weight('lm_head.weight', [vocabSize, h]);
  const flat = reshape(final, [-1, h]); // [B*K, H]
  const logits2d = g.node('Gemm', [flat, headWeight], { transB: 1 }); // [B*K, V]
  const outShape = g.node(
    'Concat',
    [g.node('Slice', [g.node('Shape', [final]), g.int64([0]), g.int64([2])]), g.int64([vocabSize])],
    {
      axis: 0,
    },
  );
  g.node('Reshape', [logits2d, outShape], {}, 'logits'); // [B, K, V]
  g.output('logits', DataType.FLOAT, ['batch_size', 'logits_length', vocabSize]);
  for (let i = 0; i < numLayers; i++) {
    for (const kind of ['key', 'value']) {
      g.output(`present.${i}.${kind}`, DataType.FLOAT, [
        'batch_size',
        numKvHeads,
        'total_sequence_length',
        d,
      ]);
    }
  }
  return g;
}
