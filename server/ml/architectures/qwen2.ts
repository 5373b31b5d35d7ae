/** Qwen2: the llama network with biases on the q, k and v projections. */
import type { ModelConfig } from '../config.js';
import type { Checkpoint } from '../safetensors.js';
import { createLlama } from './llama.js';
import type { CausalLM, LinearDelta, ModelBuildOptions } from './types.js';

export function createQwen2Model(
  config: ModelConfig,
  checkpoint: Checkpoint,
  adapter?: LinearDelta,
  build?: ModelBuildOptions,
): CausalLM {
  if (config.architecture !== 'qwen2')
    throw new Error(`qwen2 model built from a ${config.architecture} config`);
  return createLlama(config, checkpoint, { qkvBias: true }, adapter, build);
}
