/**
 * config.json of a Hugging Face causal LM, parsed with the HF field names and normalized into one
 * shape that every architecture reads.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const ARCHITECTURES = ['llama', 'qwen2', 'gpt2'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface ModelConfig {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  contextLength: number;
  normEps: number;
  /** RoPE base; unused by gpt2 (learned positions). */
  ropeTheta: number;
  /** Llama 3's frequency-dependent RoPE scaling; null for plain RoPE. */
  ropeScaling: Llama3RopeScaling | null;
  tieWordEmbeddings: boolean;
  /** Biases on q/k/v projections (qwen2; llama when attention_bias is set). */
  qkvBias: boolean;
  /** torch_dtype as written, if any. */
  torchDtype: string | undefined;
}

export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

const llama3ScalingSchema = z.object({
  rope_type: z.literal('llama3').optional(),
  type: z.literal('llama3').optional(),
  factor: z.number().positive(),
  low_freq_factor: z.number().positive(),
  high_freq_factor: z.number().positive(),
  original_max_position_embeddings: z.number().int().positive(),
});

/** rope_scaling as config.json gives it: null, or Llama 3's ("rope_type": "llama3"). */
function parseRopeScaling(raw: unknown, source: string): Llama3RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  const kind = (raw as { rope_type?: unknown; type?: unknown }).rope_type ?? (raw as { type?: unknown }).type;
  if (kind === 'default') return null;
  if (kind !== 'llama3') {
    throw new ModelConfigError(
      `${source}: rope_scaling type ${JSON.stringify(kind)} is not supported; supported: llama3`,
    );
  }
  const parsed = llama3ScalingSchema.safeParse(raw);
  if (!parsed.success) throw new ModelConfigError(`${source}: rope_scaling: ${problems(parsed.error)}`);
  const r = parsed.data;
  if (r.high_freq_factor <= r.low_freq_factor) {
    throw new ModelConfigError(`${source}: rope_scaling high_freq_factor must exceed low_freq_factor`);
  }
  return {
    factor: r.factor,
    lowFreqFactor: r.low_freq_factor,
    highFreqFactor: r.high_freq_factor,
    originalMaxPositionEmbeddings: r.original_max_position_embeddings,
  };
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

const positiveInt = z.number().int().positive();

const llamaSchema = z.object({
  model_type: z.enum(['llama', 'qwen2']),
  vocab_size: positiveInt,
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.optional(),
  head_dim: positiveInt.optional(),
  max_position_embeddings: positiveInt,
  rms_norm_eps: z.number().positive(),
  rope_theta: z.number().positive().default(10_000),
  tie_word_embeddings: z.boolean().default(false),
  attention_bias: z.boolean().default(false),
  torch_dtype: z.string().optional(),
  rope_scaling: z.unknown().optional(),
});

const gpt2Schema = z.object({
  model_type: z.literal('gpt2'),
  vocab_size: positiveInt,
  n_embd: positiveInt,
  n_head: positiveInt,
  n_layer: positiveInt,
  n_positions: positiveInt,
  n_inner: positiveInt.nullable().optional(),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  activation_function: z.literal('gelu_new', { error: 'only gelu_new is supported' }).default('gelu_new'),
  tie_word_embeddings: z.boolean().default(true),
  torch_dtype: z.string().optional(),
});

function problems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
}

/** Validates a parsed config.json; throws ModelConfigError naming each bad field. */
export function parseModelConfig(raw: unknown, source = 'config.json'): ModelConfig {
  const modelType = (raw as { model_type?: unknown } | null)?.model_type;
  if (typeof modelType !== 'string' || !(ARCHITECTURES as readonly string[]).includes(modelType)) {
    throw new ModelConfigError(
      `${source}: unsupported model_type ${JSON.stringify(modelType)}; supported: ${ARCHITECTURES.join(', ')}`,
    );
  }
  if (modelType === 'gpt2') {
    const parsed = gpt2Schema.safeParse(raw);
    if (!parsed.success) throw new ModelConfigError(`${source}: ${problems(parsed.error)}`);
    const c = parsed.data;
    if (c.n_embd % c.n_head !== 0) {
      throw new ModelConfigError(`${source}: n_embd ${c.n_embd} is not a multiple of n_head ${c.n_head}`);
    }
    if (!c.tie_word_embeddings)
      throw new ModelConfigError(`${source}: gpt2 with untied embeddings is not supported`);
    return {
      architecture: 'gpt2',
      vocabSize: c.vocab_size,
      hiddenSize: c.n_embd,
      intermediateSize: c.n_inner ?? 4 * c.n_embd,
      numLayers: c.n_layer,
      numHeads: c.n_head,
      numKvHeads: c.n_head,
      headDim: c.n_embd / c.n_head,
      contextLength: c.n_positions,
      normEps: c.layer_norm_epsilon,
      ropeTheta: 0,
      ropeScaling: null,
      tieWordEmbeddings: true,
      qkvBias: true,
      torchDtype: c.torch_dtype,
    };
  }
  const parsed = llamaSchema.safeParse(raw);
  if (!parsed.success) throw new ModelConfigError(`${source}: ${problems(parsed.error)}`);
  const c = parsed.data;
  const ropeScaling = parseRopeScaling(c.rope_scaling, source);
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % numKvHeads !== 0) {
    throw new ModelConfigError(
      `${source}: num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${numKvHeads}`,
    );
  }
  if (c.head_dim === undefined && c.hidden_size % c.num_attention_heads !== 0) {
    throw new ModelConfigError(
      `${source}: hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`,
    );
  }
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (headDim % 2 !== 0)
    throw new ModelConfigError(`${source}: RoPE needs an even head dimension, got ${headDim}`);
  return {
    architecture: c.model_type,
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim,
    contextLength: c.max_position_embeddings,
    normEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    ropeScaling,
    tieWordEmbeddings: c.tie_word_embeddings,
    qkvBias: c.model_type === 'qwen2' || c.attention_bias,
    torchDtype: c.torch_dtype,
  };
}

export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf-8');
  } catch (error) {
    throw new ModelConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ModelConfigError(`${file} is not JSON: ${(error as Error).message}`);
  }
  return parseModelConfig(raw, file);
}
