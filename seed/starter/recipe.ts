/**
 * The recipe of Parley's starter model: a byte-level BPE tokenizer and a small llama, pretrained
 * from scratch as a causal LM on the shipped dialogues' train splits (STAR and Taskmaster-4), so
 * that a fresh Parley has a bot to talk to and a base to fine-tune. The result is an ordinary
 * Hugging Face model directory; `parley starter build` runs this recipe and packs the result into
 * seed/starter/model/, which Parley ships.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { trainingTurns } from '../../server/datasets/turns.js';
import { ARCHITECTURE_REGISTRY } from '../../server/ml/architectures/registry.js';
import type { CausalLM } from '../../server/ml/architectures/types.js';
import { readModelConfig } from '../../server/ml/config.js';
import { modelTensors } from '../../server/ml/model-tensors.js';
import {
  type FloatTensor,
  loadCheckpoint,
  SINGLE_FILE,
  writeSafetensors,
} from '../../server/ml/safetensors.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { seededNormal } from '../../server/seeded-random.js';
import { fullTrainable } from '../../server/train/full-trainable.js';
import { type StepMetrics, type TrainExample, type TrainResult, train } from '../../server/train/trainer.js';
import { DIALOGUE_DIR, type Dialogue, readDialogues } from '../dialogues.js';
import { buildTokenizer, SPECIAL_TOKENS } from './tokenizer.js';

export interface StarterRecipe {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  intermediateSize: number;
  contextLength: number;
  /** Training windows: the dialogues, concatenated, cut into this many tokens. */
  windowLength: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Dialogues per corpus (STAR, Taskmaster-4); unset: all of them. */
  dialoguesPerCorpus?: number;
  systemPrompt: string;
  seed: number;
}

/** What the shipped starter model was built with (its README names the same). */
export const STARTER_RECIPE: StarterRecipe = {
  vocabSize: 2048,
  hiddenSize: 192,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  intermediateSize: 512,
  contextLength: 512,
  windowLength: 256,
  epochs: 1,
  batchSize: 16,
  learningRate: 3e-3,
  dialoguesPerCorpus: 2000,
  systemPrompt: 'You are a helpful, friendly customer-service assistant.',
  seed: 1,
};

async function dialogues(split: 'train' | 'dev', limit?: number): Promise<Dialogue[]> {
  const all: Dialogue[] = [];
  for (const corpus of ['star', 'taskmaster4']) {
    for await (const d of readDialogues(path.join(DIALOGUE_DIR, `${corpus}.${split}.jsonl.br`), limit))
      all.push(d);
  }
  return all;
}

/** Hugging Face config.json of the starter llama. */
export function llamaConfig(recipe: StarterRecipe, vocabSize: number) {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocabSize,
    hidden_size: recipe.hiddenSize,
    intermediate_size: recipe.intermediateSize,
    num_hidden_layers: recipe.numLayers,
    num_attention_heads: recipe.numHeads,
    num_key_value_heads: recipe.numKvHeads,
    head_dim: recipe.hiddenSize / recipe.numHeads,
    max_position_embeddings: recipe.contextLength,
    rms_norm_eps: 1e-5,
    rope_theta: 10_000,
    tie_word_embeddings: true,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: null,
    eos_token_id: SPECIAL_TOKENS.indexOf('<|im_end|>'),
    pad_token_id: SPECIAL_TOKENS.indexOf('<|endoftext|>'),
    torch_dtype: 'float32',
    transformers_version: '4.46.0',
  };
}

/** GPT-2-style initialization: N(0, 0.02), output projections scaled down by depth, norms at 1. */
export function initialWeights(
  config: ReturnType<typeof llamaConfig>,
  seed: number,
): Record<string, FloatTensor> {
  const normal = seededNormal(seed);
  const h = config.hidden_size;
  const headDim = config.head_dim;
  const tensors: Record<string, FloatTensor> = {};
  const add = (name: string, shape: number[], std: number) => {
    const count = shape.reduce((a, b) => a * b, 1);
    tensors[name] = { shape, data: Float32Array.from({ length: count }, () => std * normal()) };
  };
  const ones = (name: string) => {
    tensors[name] = { shape: [h], data: new Float32Array(h).fill(1) };
  };
  const residualStd = 0.02 / Math.sqrt(2 * config.num_hidden_layers);
  add('model.embed_tokens.weight', [config.vocab_size, h], 0.02);
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    ones(`${p}.input_layernorm.weight`);
    ones(`${p}.post_attention_layernorm.weight`);
    add(`${p}.self_attn.q_proj.weight`, [config.num_attention_heads * headDim, h], 0.02);
    add(`${p}.self_attn.k_proj.weight`, [config.num_key_value_heads * headDim, h], 0.02);
    add(`${p}.self_attn.v_proj.weight`, [config.num_key_value_heads * headDim, h], 0.02);
    add(`${p}.self_attn.o_proj.weight`, [h, config.num_attention_heads * headDim], residualStd);
    add(`${p}.mlp.gate_proj.weight`, [config.intermediate_size, h], 0.02);
    add(`${p}.mlp.up_proj.weight`, [config.intermediate_size, h], 0.02);
    add(`${p}.mlp.down_proj.weight`, [h, config.intermediate_size], residualStd);
  }
  ones('model.norm.weight');
  return tensors;
}

/** Every dialogue as ChatML token ids, concatenated and cut into windows; loss on every token. */
export function packWindows(
  tokenizer: ChatTokenizer,
  all: Dialogue[],
  systemPrompt: string,
  windowLength: number,
): TrainExample[] {
  const stream: number[] = [];
  const endOfText = SPECIAL_TOKENS.indexOf('<|endoftext|>');
  for (const dialogue of all) {
    const turns = trainingTurns(
      dialogue.turns.map((t) => ({ role: t.role, text: t.text })),
      systemPrompt,
    );
    for (const id of tokenizer.encodeChat(turns.map(({ role, content }) => ({ role, content }))))
      stream.push(id);
    stream.push(endOfText);
  }
  const windows: TrainExample[] = [];
  for (let start = 0; start + windowLength <= stream.length; start += windowLength) {
    windows.push({
      ids: stream.slice(start, start + windowLength),
      targets: [{ start: 1, end: windowLength }],
    });
  }
  return windows;
}

async function saveWeights(model: CausalLM, dir: string): Promise<void> {
  const staged = path.join(dir, `${SINGLE_FILE}.partial`);
  await writeSafetensors(staged, await modelTensors(model), 'F32');
  await rename(staged, path.join(dir, SINGLE_FILE));
}

export interface BuildStarterOptions {
  outDir: string;
  recipe?: StarterRecipe;
  /** Continue from the weights saved in outDir (with a fresh optimizer) instead of starting over. */
  resume?: boolean;
  /** Save the weights every this many steps (and at the end). */
  saveEvery?: number;
  onStart?: (info: { parameters: number; windows: number; totalSteps: number }) => void;
  onStep?: (metrics: StepMetrics) => void;
  signal?: AbortSignal;
}

/** Runs the recipe into `outDir` (a Hugging Face model directory when it returns). */
export async function buildStarterModel(options: BuildStarterOptions): Promise<TrainResult> {
  const recipe = options.recipe ?? STARTER_RECIPE;
  const { outDir } = options;
  await mkdir(outDir, { recursive: true });
  const trainDialogues = await dialogues('train', recipe.dialoguesPerCorpus);
  const devDialogues = await dialogues('dev', Math.min(200, recipe.dialoguesPerCorpus ?? 200));
  if (!options.resume) {
    const texts = trainDialogues.flatMap((d) => d.turns.map((t) => t.text));
    const { vocabSize } = await buildTokenizer(texts, outDir, {
      vocabSize: recipe.vocabSize,
      contextLength: recipe.contextLength,
    });
    const config = llamaConfig(recipe, vocabSize);
    await writeFile(path.join(outDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    await writeFile(
      path.join(outDir, 'generation_config.json'),
      `${JSON.stringify({ eos_token_id: config.eos_token_id, pad_token_id: config.pad_token_id }, null, 2)}\n`,
    );
    await writeSafetensors(path.join(outDir, SINGLE_FILE), initialWeights(config, recipe.seed), 'F32');
  }
  const tokenizer = await ChatTokenizer.load(outDir);
  const config = await readModelConfig(outDir);
  const model = ARCHITECTURE_REGISTRY.llama(config, await loadCheckpoint(outDir), undefined, {
    trainable: true,
  });
  try {
    const windows = packWindows(tokenizer, trainDialogues, recipe.systemPrompt, recipe.windowLength);
    const validation = packWindows(tokenizer, devDialogues, recipe.systemPrompt, recipe.windowLength).slice(
      0,
      32,
    );
    const saveEvery = options.saveEvery ?? 10;
    options.onStart?.({
      parameters: model.parameterCount,
      windows: windows.length,
      totalSteps: Math.ceil(windows.length / recipe.batchSize) * recipe.epochs,
    });
    let saving: Promise<void> = Promise.resolve();
    const result = await train(
      fullTrainable(model),
      { train: windows, validation },
      {
        epochs: recipe.epochs,
        batchSize: recipe.batchSize,
        learningRate: recipe.learningRate,
        weightDecay: 0.1,
        maxGradNorm: 1,
        evalEvery: saveEvery * 4,
        patience: 0,
        seed: recipe.seed,
      },
      {
        onStep: (metrics) => {
          options.onStep?.(metrics);
          if (metrics.step % saveEvery === 0) saving = saving.then(() => saveWeights(model, outDir));
        },
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    await saving;
    await saveWeights(model, outDir);
    return result;
  } finally {
    model.dispose();
  }
}
