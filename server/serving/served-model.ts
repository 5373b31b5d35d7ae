/**
 * One model version ready to answer: weights, tokenizer, the ids that end a reply, checked by a
 * warm-up generation, so that a version that cannot generate is refused before it serves anyone.
 */
import { loadModel } from '../ml/architectures/registry.js';
import type { CausalLM } from '../ml/architectures/types.js';
import { readEosTokenIds } from '../ml/eos.js';
import { ChatTokenizer } from '../ml/tokenizer.js';
import { endOfTurnIds, fitPrompt } from './prompt.js';
import { confidenceOf, scoredGenerate } from './scored-generate.js';
import type { GeneratedReply, ReplyRequest } from './types.js';

export interface ServedModel {
  dir: string;
  model: CausalLM;
  tokenizer: ChatTokenizer;
  eosTokenIds: number[];
  dispose(): void;
}

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export async function loadServedModel(dir: string): Promise<ServedModel> {
  let tokenizer: ChatTokenizer;
  let model: CausalLM;
  try {
    tokenizer = await ChatTokenizer.load(dir);
    ({ model } = await loadModel(dir));
  } catch (error) {
    throw new ModelLoadError(`cannot load the model in ${dir}: ${(error as Error).message}`);
  }
  try {
    if (tokenizer.vocabSize > model.config.vocabSize) {
      throw new ModelLoadError(
        `the tokenizer of ${dir} has ${tokenizer.vocabSize} tokens, more than the model's vocabulary of ${model.config.vocabSize}`,
      );
    }
    const eos = new Set(await readEosTokenIds(dir));
    if (tokenizer.eosTokenId !== undefined) eos.add(tokenizer.eosTokenId);
    for (const id of endOfTurnIds(tokenizer)) eos.add(id);
    const served: ServedModel = {
      dir,
      model,
      tokenizer,
      eosTokenIds: [...eos],
      dispose: () => model.dispose(),
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
    model.dispose();
    if (error instanceof ModelLoadError) throw error;
    throw new ModelLoadError(`the model in ${dir} failed its warm-up: ${(error as Error).message}`);
  }
}

/** Renders the conversation, fits it into the context and generates the reply. */
export async function replyWith(
  served: ServedModel,
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
