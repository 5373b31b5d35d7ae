/**
 * One model version ready to answer: weights, tokenizer, the ids that end a reply, checked by a
 * warm-up generation, so that a version that cannot generate is refused before it serves anyone.
 */
import type { SERVING_RUNTIMES } from '../env.js';
import { loadModel } from '../ml/architectures/registry.js';
import type { CausalLM } from '../ml/architectures/types.js';
import { readModelConfig } from '../ml/config.js';
import { readEosTokenIds } from '../ml/eos.js';
import { ensureOnnxExport } from '../ml/onnx/export.js';
import { OnnxDecoder } from '../ml/onnx/session.js';
import { ChatTokenizer } from '../ml/tokenizer.js';
import { endOfTurnIds, fitPrompt } from './prompt.js';
import { confidenceOf, scoredGenerate } from './scored-generate.js';
import type { GeneratedReply, ReplyRequest } from './types.js';

/** What generates the replies: ONNX Runtime on the version exported to ONNX, or tfjs. */
export type ServingRuntime = 'onnx' | 'tfjs';
/** auto: ONNX Runtime on CPU for the architectures it exports (llama, qwen2), tfjs otherwise. */
export type ServingRuntimeChoice = (typeof SERVING_RUNTIMES)[number];

/** tfjs backends that run on a GPU: there, auto keeps tfjs. */
const GPU_BACKENDS = new Set(['node-gpu', 'webgpu']);

/** A loaded version; `model` is tfjs's unless it was loaded with loadLiveModel. */
export interface ServedModel<M extends CausalLM | OnnxDecoder = CausalLM> {
  dir: string;
  model: M;
  runtime: ServingRuntime;
  /** Why auto fell back to tfjs, if it did. */
  notice: string | null;
  tokenizer: ChatTokenizer;
  eosTokenIds: number[];
  /** Frees the weights; with ONNX Runtime, resolves once its session is released. */
  dispose(): Promise<void>;
}

export interface ServedModelOptions {
  /** Default tfjs (what the served model was before ONNX Runtime). */
  runtime?: ServingRuntimeChoice;
  /** The tfjs backend in use (selectBackend's name): auto keeps tfjs on a GPU backend. */
  tfjsBackend?: string;
  /** ONNX Runtime intra-op threads; default ORT's own (one per core). */
  onnxThreads?: number;
}

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

/**
 * The version's model on ONNX Runtime (exported once, cached in `dir`/onnx) or on tfjs. With auto,
 * ONNX Runtime is used on CPU for llama and qwen2; when the export or ORT fails, tfjs serves and
 * `notice` says why.
 */
async function loadRuntimeModel(
  dir: string,
  options: ServedModelOptions,
): Promise<{ model: CausalLM | OnnxDecoder; runtime: ServingRuntime; notice: string | null }> {
  const choice = options.runtime ?? 'tfjs';
  let notice: string | null = null;
  let wantOnnx = choice === 'onnx';
  if (choice === 'auto' && !GPU_BACKENDS.has(options.tfjsBackend ?? '')) {
    const { architecture } = await readModelConfig(dir);
    wantOnnx = architecture === 'llama' || architecture === 'qwen2';
    if (!wantOnnx) notice = `ONNX Runtime does not serve ${architecture} yet; tfjs serves it`;
  }
  if (wantOnnx) {
    try {
      await ensureOnnxExport(dir);
      const model = await OnnxDecoder.load(dir, { intraOpThreads: options.onnxThreads });
      return { model, runtime: 'onnx', notice: null };
    } catch (error) {
      if (choice === 'onnx') throw error;
      notice = `ONNX Runtime could not load the version (${(error as Error).message}); tfjs serves it`;
    }
  }
  return { model: (await loadModel(dir)).model, runtime: 'tfjs', notice };
}

/** The version on tfjs (evaluation, tests): what loadLiveModel serves with runtime tfjs. */
export async function loadServedModel(dir: string): Promise<ServedModel<CausalLM>> {
  return finishLoading(dir, async () => ({
    model: (await loadModel(dir)).model,
    runtime: 'tfjs' as const,
    notice: null,
  }));
}

/** The version as the live chat serves it: on ONNX Runtime or tfjs, as `options.runtime` picks. */
export async function loadLiveModel(
  dir: string,
  options: ServedModelOptions = {},
): Promise<ServedModel<CausalLM | OnnxDecoder>> {
  return finishLoading(dir, () => loadRuntimeModel(dir, options));
}

async function finishLoading<M extends CausalLM | OnnxDecoder>(
  dir: string,
  load: () => Promise<{ model: M; runtime: ServingRuntime; notice: string | null }>,
): Promise<ServedModel<M>> {
  let tokenizer: ChatTokenizer;
  let loaded: { model: M; runtime: ServingRuntime; notice: string | null };
  try {
    tokenizer = await ChatTokenizer.load(dir);
    loaded = await load();
  } catch (error) {
    throw new ModelLoadError(`cannot load the model in ${dir}: ${(error as Error).message}`);
  }
  const { model } = loaded;
  try {
    if (tokenizer.vocabSize > model.config.vocabSize) {
      throw new ModelLoadError(
        `the tokenizer of ${dir} has ${tokenizer.vocabSize} tokens, more than the model's vocabulary of ${model.config.vocabSize}`,
      );
    }
    const eos = new Set(await readEosTokenIds(dir));
    if (tokenizer.eosTokenId !== undefined) eos.add(tokenizer.eosTokenId);
    for (const id of endOfTurnIds(tokenizer)) eos.add(id);
    const served: ServedModel<M> = {
      dir,
      model,
      runtime: loaded.runtime,
      notice: loaded.notice,
      tokenizer,
      eosTokenIds: [...eos],
      dispose: async () => {
        await model.dispose();
      },
    };
    // Warm-up: compiles the kernels for these shapes and proves the weights produce finite logits.
    const warm = await replyWith(served, {
      turns: [{ role: 'customer', text: 'hello' }],
      systemPrompt: null,
      maxNewTokens: 2,
      sampling: { temperature: 0 },
      seed: 0,
    });
    if (warm.tokens > 0 && !(warm.confidence > 0)) {
      throw new ModelLoadError(`the model in ${dir} produces non-finite logits`);
    }
    return served;
  } catch (error) {
    await model.dispose();
    if (error instanceof ModelLoadError) throw error;
    throw new ModelLoadError(`the model in ${dir} failed its warm-up: ${(error as Error).message}`);
  }
}

/** Renders the conversation, fits it into the context and generates the reply. */
export async function replyWith(
  served: ServedModel<CausalLM | OnnxDecoder>,
  request: ReplyRequest,
  hooks: { onDelta?: (delta: string) => void; signal?: AbortSignal } = {},
): Promise<GeneratedReply> {
  const { contextLength } = served.model.config;
  // Room for the reply: what was asked, but never more than half the context.
  const room = Math.max(1, Math.min(request.maxNewTokens, Math.floor(contextLength / 2)));
  const prompt = fitPrompt(served.tokenizer, request.turns, request.systemPrompt, contextLength - room);
  const generated = await scoredGenerate(served.model, served.tokenizer, prompt.ids, {
    maxNewTokens: request.maxNewTokens,
    sampling: request.sampling,
    seed: request.seed,
    eosTokenIds: served.eosTokenIds,
    onDelta: hooks.onDelta,
    signal: hooks.signal,
  });
  return {
    text: generated.text,
    confidence: confidenceOf(generated.logProbSum, generated.tokens.length),
    finishReason: generated.finishReason,
    tokens: generated.tokens.length,
    promptTokens: prompt.ids.length,
  };
}
