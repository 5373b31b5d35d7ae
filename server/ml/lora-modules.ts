/** The linear projections of each architecture that LoRA can target, and PEFT-style target matching. */
import type { Architecture, ModelConfig } from './config.js';

/** One linear projection: its HF module name, sizes, and how its weight is stored. */
export interface LinearModule {
  /** e.g. "model.layers.0.self_attn.q_proj", "transformer.h.0.attn.c_attn". */
  name: string;
  inDim: number;
  outDim: number;
  /** nn.Linear stores [out, in]; gpt2's Conv1D stores [in, out] (PEFT's fan_in_fan_out). */
  fanInFanOut: boolean;
}

export const ALL_LINEAR = 'all-linear';

/** What 'all-linear' expands to (every projection but the output head), by architecture. */
export const ALL_LINEAR_TARGETS: Record<Architecture, string[]> = {
  llama: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  qwen2: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  gpt2: ['c_attn', 'c_proj', 'c_fc'],
};

/** PEFT's defaults (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
export const DEFAULT_TARGETS: Record<Architecture, string[]> = {
  llama: ['q_proj', 'v_proj'],
  qwen2: ['q_proj', 'v_proj'],
  gpt2: ['c_attn'],
};

export function linearModules(config: ModelConfig): LinearModule[] {
  const { hiddenSize: h, intermediateSize: inter, numLayers } = config;
  const modules: LinearModule[] = [];
  for (let i = 0; i < numLayers; i++) {
    const add = (name: string, inDim: number, outDim: number, fanInFanOut: boolean) =>
      modules.push({ name, inDim, outDim, fanInFanOut });
    if (config.architecture === 'gpt2') {
      const p = `transformer.h.${i}`;
      add(`${p}.attn.c_attn`, h, 3 * h, true);
      add(`${p}.attn.c_proj`, h, h, true);
      add(`${p}.mlp.c_fc`, h, inter, true);
      add(`${p}.mlp.c_proj`, inter, h, true);
    } else {
      const q = config.numHeads * config.headDim;
      const kv = config.numKvHeads * config.headDim;
      const p = `model.layers.${i}`;
      add(`${p}.self_attn.q_proj`, h, q, false);
      add(`${p}.self_attn.k_proj`, h, kv, false);
      add(`${p}.self_attn.v_proj`, h, kv, false);
      add(`${p}.self_attn.o_proj`, q, h, false);
      add(`${p}.mlp.gate_proj`, h, inter, false);
      add(`${p}.mlp.up_proj`, h, inter, false);
      add(`${p}.mlp.down_proj`, inter, h, false);
    }
  }
  return modules;
}

/** The target names that `targets` (names, or 'all-linear', or undefined for the default) stands for. */
export function expandTargets(architecture: Architecture, targets?: string[] | typeof ALL_LINEAR): string[] {
  if (targets === undefined) return DEFAULT_TARGETS[architecture];
  if (targets === ALL_LINEAR) return ALL_LINEAR_TARGETS[architecture];
  if (targets.length === 0) throw new Error('LoRA needs at least one target module');
  return targets;
}

/**
 * The modules matched by `targets` as PEFT matches them: a module whose full name equals a target
 * or ends with "." + target. Throws on a target that matches nothing, so a typo is never silent.
 */
export function selectModules(config: ModelConfig, targets: string[]): LinearModule[] {
  const modules = linearModules(config);
  const matches = (module: LinearModule, target: string) =>
    module.name === target || module.name.endsWith(`.${target}`);
  for (const target of targets) {
    if (!modules.some((m) => matches(m, target))) {
      throw new Error(
        `LoRA target ${JSON.stringify(target)} matches no linear module of this ${config.architecture} model`,
      );
    }
  }
  return modules.filter((m) => targets.some((t) => matches(m, t)));
}

/** The checkpoint name of a module's weight; gpt2 checkpoints may lack the "transformer." prefix. */
export function weightName(module: LinearModule, hasTransformerPrefix: boolean): string {
  const name = hasTransformerPrefix ? module.name : module.name.replace(/^transformer\./, '');
  return `${name}.weight`;
}
