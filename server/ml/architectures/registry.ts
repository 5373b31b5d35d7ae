/** Model constructors by config.json model_type, and loading a model directory. */
import { type Architecture, type ModelConfig, readModelConfig } from '../config.js';
import { type Checkpoint, loadCheckpoint } from '../safetensors.js';
import { createGpt2Model } from './gpt2.js';
import { createLlamaModel } from './llama.js';
import { createQwen2Model } from './qwen2.js';
import type { CausalLM, LinearDelta, ModelBuildOptions } from './types.js';

export const ARCHITECTURE_REGISTRY: Record<
  Architecture,
  (config: ModelConfig, checkpoint: Checkpoint, adapter?: LinearDelta, build?: ModelBuildOptions) => CausalLM
> = {
  llama: createLlamaModel,
  qwen2: createQwen2Model,
  gpt2: createGpt2Model,
};

export interface LoadedModel {
  model: CausalLM;
  checkpoint: Checkpoint;
}

/** Reads config.json and the safetensors weights of `dir` and builds the model. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const config = await readModelConfig(dir);
  const checkpoint = await loadCheckpoint(dir);
  return { model: ARCHITECTURE_REGISTRY[config.architecture](config, checkpoint), checkpoint };
}
