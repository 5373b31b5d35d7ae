/**
 * PEFT-compatible LoRA adapter directories: adapter_config.json and adapter_model.safetensors with
 * PEFT's tensor names ("base_model.model.<module>.lora_A.weight" [r, in], "...lora_B.weight"
 * [out, r], whatever the base layer's layout), so that peft.PeftModel.from_pretrained can load what
 * Parley saves and the reverse.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { CausalLM } from './architectures/types.js';
import { type ModelConfig, readModelConfig } from './config.js';
import { createLoraModel, LoraAdapter, type LoraSettings } from './lora.js';
import { ALL_LINEAR, expandTargets, selectModules } from './lora-modules.js';
import {
  checkShape,
  decodeToFloat32,
  type FloatTensor,
  loadCheckpoint,
  parseSafetensors,
  SafetensorsError,
  writeSafetensors,
} from './safetensors.js';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

export class AdapterError extends Error {
  override name = 'AdapterError';
}

export const peftTensorName = (module: string, matrix: 'A' | 'B') =>
  `base_model.model.${module}.lora_${matrix}.weight`;

export interface SaveAdapterOptions {
  /** What the base was loaded from: a hub id or a directory. */
  baseModelNameOrPath: string;
}

/** The adapter_config.json PEFT writes for these settings. */
export function peftAdapterConfig(
  adapter: LoraAdapter,
  baseModelNameOrPath: string,
): Record<string, unknown> {
  const { r, alpha, dropout, targetModules } = adapter.settings;
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModelNameOrPath,
    r,
    lora_alpha: alpha,
    lora_dropout: dropout,
    target_modules: [...targetModules].sort(),
    bias: 'none',
    fan_in_fan_out: adapter.config.architecture === 'gpt2',
    inference_mode: true,
    init_lora_weights: true,
    use_rslora: false,
    use_dora: false,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
  };
}

export async function saveAdapter(
  dir: string,
  adapter: LoraAdapter,
  options: SaveAdapterOptions,
): Promise<void> {
  const tensors: Record<string, FloatTensor> = {};
  for (const { module, a, b } of adapter.pairs) {
    tensors[peftTensorName(module.name, 'A')] = { shape: a.shape, data: a.dataSync() as Float32Array };
    tensors[peftTensorName(module.name, 'B')] = { shape: b.shape, data: b.dataSync() as Float32Array };
  }
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), tensors, 'F32');
  await writeFile(
    path.join(dir, ADAPTER_CONFIG),
    `${JSON.stringify(peftAdapterConfig(adapter, options.baseModelNameOrPath), null, 2)}\n`,
  );
}

const emptyRecord = z
  .record(z.string(), z.unknown())
  .refine((r) => Object.keys(r).length === 0, 'per-module rank or alpha patterns are not supported')
  .nullish();

const adapterConfigSchema = z.object({
  peft_type: z.literal('LORA', { error: 'only LORA adapters are supported' }),
  task_type: z.string().nullish(),
  base_model_name_or_path: z.string().nullish(),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  lora_dropout: z.number().min(0).lt(1).default(0),
  target_modules: z.union([z.array(z.string()).nonempty(), z.literal(ALL_LINEAR)], {
    error:
      'target_modules must be a list of module names or "all-linear" (regular expressions are not supported)',
  }),
  bias: z.literal('none', { error: 'only bias "none" is supported' }).default('none'),
  use_rslora: z.literal(false, { error: 'rsLoRA scaling is not supported' }).default(false),
  use_dora: z.literal(false, { error: 'DoRA is not supported' }).default(false),
  modules_to_save: z.null({ error: 'modules_to_save is not supported' }).nullish(),
  layers_to_transform: z.null({ error: 'layers_to_transform is not supported' }).nullish(),
  rank_pattern: emptyRecord,
  alpha_pattern: emptyRecord,
  // Newer PEFT fields that would change what the adapter computes or which modules it covers.
  lora_bias: z.literal(false, { error: 'a bias on lora_B is not supported' }).default(false),
  use_qalora: z.literal(false, { error: 'QALoRA is not supported' }).default(false),
  exclude_modules: z
    .union([z.null(), z.array(z.string()).length(0)], { error: 'exclude_modules is not supported' })
    .nullish(),
  layer_replication: z.null({ error: 'layer_replication is not supported' }).nullish(),
  target_parameters: z
    .union([z.null(), z.array(z.string()).length(0)], { error: 'target_parameters is not supported' })
    .nullish(),
  trainable_token_indices: z.null({ error: 'trainable_token_indices is not supported' }).nullish(),
});

export interface LoadedAdapter {
  adapter: LoraAdapter;
  baseModelNameOrPath: string | undefined;
}

/** Reads a PEFT LoRA directory for a base model with `config`; every tensor must fit and be used. */
export async function loadAdapter(dir: string, config: ModelConfig): Promise<LoadedAdapter> {
  const configPath = path.join(dir, ADAPTER_CONFIG);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(configPath, 'utf-8'));
  } catch (error) {
    throw new AdapterError(`cannot read ${configPath}: ${(error as Error).message}`);
  }
  const parsed = adapterConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new AdapterError(`${configPath}: ${problems.join('; ')}`);
  }
  const c = parsed.data;
  const settings: LoraSettings = {
    targetModules: expandTargets(config.architecture, c.target_modules),
    r: c.r,
    alpha: c.lora_alpha,
    dropout: c.lora_dropout,
  };
  const weightsPath = path.join(dir, ADAPTER_WEIGHTS);
  let stored: ReturnType<typeof parseSafetensors>['tensors'];
  try {
    stored = parseSafetensors(await readFile(weightsPath), weightsPath).tensors;
  } catch (error) {
    if (error instanceof SafetensorsError) throw error;
    throw new AdapterError(`cannot read ${weightsPath}: ${(error as Error).message}`);
  }
  let modules: ReturnType<typeof selectModules>;
  try {
    modules = selectModules(config, settings.targetModules);
  } catch (error) {
    throw new AdapterError(`${configPath}: ${(error as Error).message}`);
  }
  const used = new Set<string>();
  const read = (name: string, shape: number[]): tf.Tensor => {
    const tensor = stored.get(name);
    if (!tensor) throw new AdapterError(`${weightsPath} has no tensor ${name}`);
    checkShape(name, tensor.shape, shape);
    used.add(name);
    return tf.tensor(decodeToFloat32(tensor.bytes, tensor.dtype), shape);
  };
  const adapter = LoraAdapter.fromValues(
    config,
    settings,
    (module) => {
      const a = read(peftTensorName(module.name, 'A'), [c.r, module.inDim]);
      try {
        return { a, b: read(peftTensorName(module.name, 'B'), [module.outDim, c.r]) };
      } catch (error) {
        a.dispose();
        throw error;
      }
    },
    modules,
  );
  const unused = [...stored.keys()].filter((name) => !used.has(name));
  if (unused.length > 0) {
    adapter.dispose();
    throw new AdapterError(
      `${weightsPath} holds tensors that target_modules does not select for this model: ${unused.slice(0, 3).join(', ')}${unused.length > 3 ? ', ...' : ''}`,
    );
  }
  return { adapter, baseModelNameOrPath: c.base_model_name_or_path ?? undefined };
}

export interface AdaptedModel {
  model: CausalLM;
  adapter: LoraAdapter;
  /** Frees the model's weights and the adapter. */
  dispose(): void;
}

/** The base model of `baseDir` with the PEFT adapter of `adapterDir` attached (not merged). */
export async function loadModelWithAdapter(baseDir: string, adapterDir: string): Promise<AdaptedModel> {
  const config = await readModelConfig(baseDir);
  const checkpoint = await loadCheckpoint(baseDir);
  const { adapter } = await loadAdapter(adapterDir, config);
  let model: CausalLM;
  try {
    model = createLoraModel(config, checkpoint, adapter);
  } catch (error) {
    adapter.dispose();
    throw error;
  }
  return {
    model,
    adapter,
    dispose() {
      model.dispose();
      adapter.dispose();
    },
  };
}
