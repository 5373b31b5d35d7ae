/**
 * LoRA (Hu et al. 2021) as PEFT implements it: each targeted projection y = W x gains
 * (alpha / r) · B A dropout(x), with A [r, in] Kaiming-uniform and B [out, r] zero, so a fresh
 * adapter leaves the model unchanged. A and B are the only tf.Variables, hence the only trainable
 * parameters; the base weights stay plain tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURE_REGISTRY } from './architectures/registry.js';
import type { CausalLM, LinearDelta } from './architectures/types.js';
import type { ModelConfig } from './config.js';
import {
  type ALL_LINEAR,
  expandTargets,
  type LinearModule,
  linearModules,
  selectModules,
} from './lora-modules.js';
import type { Checkpoint } from './safetensors.js';

export interface LoraOptions {
  /** Module names or suffixes (PEFT's target_modules), or 'all-linear'; default PEFT's per architecture. */
  targetModules?: string[] | typeof ALL_LINEAR;
  r?: number;
  alpha?: number;
  dropout?: number;
  /** Seeds A's initialisation (and nothing else). */
  seed?: number;
}

export interface LoraSettings {
  targetModules: string[];
  r: number;
  alpha: number;
  dropout: number;
}

export interface LoraPair {
  module: LinearModule;
  /** [r, in] */
  a: tf.Variable<tf.Rank.R2>;
  /** [out, r] */
  b: tf.Variable<tf.Rank.R2>;
}

export function resolveLoraSettings(config: ModelConfig, options: LoraOptions = {}): LoraSettings {
  const { r = 8, alpha = 16, dropout = 0 } = options;
  if (!Number.isInteger(r) || r < 1) throw new Error(`LoRA rank r must be a positive integer, got ${r}`);
  if (!Number.isFinite(alpha) || alpha <= 0) throw new Error(`lora_alpha must be positive, got ${alpha}`);
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`lora_dropout must be in [0, 1), got ${dropout}`);
  return { targetModules: expandTargets(config.architecture, options.targetModules), r, alpha, dropout };
}

let nextId = 0;

export class LoraAdapter implements LinearDelta {
  /** When true, dropout applies to the LoRA input; false (inference) by default. */
  training = false;
  /** Seeds each dropout mask when set (a trainer's checkpointed stream); tfjs's own randomness otherwise. */
  dropoutSeed: (() => number) | null = null;
  readonly scaling: number;
  private readonly byModule: Map<string, LoraPair>;

  constructor(
    readonly config: ModelConfig,
    readonly settings: LoraSettings,
    readonly pairs: LoraPair[],
  ) {
    this.scaling = settings.alpha / settings.r;
    this.byModule = new Map(pairs.map((p) => [p.module.name, p]));
  }

  /** A fresh adapter: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)), B = 0. */
  static create(config: ModelConfig, options: LoraOptions = {}): LoraAdapter {
    const settings = resolveLoraSettings(config, options);
    const seed = options.seed ?? 0;
    const modules = selectModules(config, settings.targetModules);
    return LoraAdapter.fromValues(
      config,
      settings,
      (module, index) => {
        const bound = 1 / Math.sqrt(module.inDim);
        return {
          a: tf.randomUniform([settings.r, module.inDim], -bound, bound, 'float32', seed + index),
          b: tf.zeros([module.outDim, settings.r]),
        };
      },
      modules,
    );
  }

  /** An adapter whose A and B come from `values` (tensors it takes ownership of). */
  static fromValues(
    config: ModelConfig,
    settings: LoraSettings,
    values: (module: LinearModule, index: number) => { a: tf.Tensor; b: tf.Tensor },
    modules = selectModules(config, settings.targetModules),
  ): LoraAdapter {
    const id = nextId++;
    const pairs: LoraPair[] = [];
    try {
      for (const [index, module] of modules.entries()) {
        const { a, b } = values(module, index);
        try {
          pairs.push({
            module,
            a: tf.variable(a as tf.Tensor2D, true, `lora${id}.${module.name}.lora_A`),
            b: tf.variable(b as tf.Tensor2D, true, `lora${id}.${module.name}.lora_B`),
          });
        } finally {
          a.dispose();
          b.dispose();
        }
      }
    } catch (error) {
      for (const p of pairs) tf.dispose([p.a, p.b]);
      throw error;
    }
    return new LoraAdapter(config, settings, pairs);
  }

  /** Every trainable parameter: each module's A then B. */
  get variables(): tf.Variable[] {
    return this.pairs.flatMap((p) => [p.a, p.b]);
  }

  get parameterCount(): number {
    return this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  delta(name: string, x: tf.Tensor2D): tf.Tensor2D | undefined {
    const pair = this.byModule.get(name);
    if (!pair) return undefined;
    return tf.tidy(() => {
      const input =
        this.training && this.settings.dropout > 0
          ? tf.dropout(x, this.settings.dropout, undefined, this.dropoutSeed?.())
          : x;
      const down = tf.matMul(input, pair.a, false, true); // [T, r]
      return tf.matMul(down, pair.b, false, true).mul(this.scaling) as tf.Tensor2D; // [T, out]
    });
  }

  dispose(): void {
    for (const p of this.pairs) tf.dispose([p.a, p.b]);
  }
}

/** The base model with `adapter` added to its projections; disposing it frees the base weights only. */
export function createLoraModel(config: ModelConfig, checkpoint: Checkpoint, adapter: LoraAdapter): CausalLM {
  const expected = new Map(linearModules(config).map((m) => [m.name, m]));
  for (const { module } of adapter.pairs) {
    const base = expected.get(module.name);
    if (!base || base.inDim !== module.inDim || base.outDim !== module.outDim) {
      throw new Error(
        `LoRA module ${module.name} [${module.inDim} -> ${module.outDim}] does not fit this ${config.architecture} model`,
      );
    }
  }
  return ARCHITECTURE_REGISTRY[config.architecture](config, checkpoint, adapter);
}
