/**
 * Validation loss and perplexity of a model on a dataset's validation split, with the training
 * loss mask: the trainer's own evaluateLoss over the dataset's stored examples (mean cross-entropy
 * per target token: agent replies and approved/corrected bot replies, never customer turns or the
 * system prompt). When the model tokenizes differently from the dataset (another base model), or
 * has a shorter context, the validation conversations are rendered again with the model's own
 * tokenizer by the same rules the dataset build used.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { trainableTurnCount, trainingTurns } from '../datasets/turns.js';
import { windowExamples } from '../datasets/windows.js';
import type { CausalLM } from '../ml/architectures/types.js';
import type { ChatTokenizer } from '../ml/tokenizer.js';
import { readExamples } from '../train/examples.js';
import { maskedCrossEntropySum } from '../train/loss.js';
import { targetCount } from '../train/plans.js';
import { evaluateLoss, type TrainableModel, type TrainExample } from '../train/trainer.js';
import type { ValidationConversation } from './validation-split.js';

export interface LossResult {
  /** Mean cross-entropy per target token (nats). */
  validationLoss: number;
  /** exp(validationLoss). */
  perplexity: number;
  examples: number;
  targetTokens: number;
  /** 'dataset': the dataset's stored token ids; 'rerendered': its conversations, this model's tokenizer. */
  tokenization: 'dataset' | 'rerendered';
}

/** A model as the trainer's evaluateLoss sees it, with nothing to train. */
export function frozenModel(model: CausalLM): TrainableModel {
  return {
    variables: [],
    exampleLoss: (example) =>
      tf.tidy(() => maskedCrossEntropySum(model.forward(example.ids), example.ids, example.targets)),
  };
}

/** A digest of a model directory's tokenizer files, or null when it has none. */
export async function tokenizerDigest(dir: string): Promise<string | null> {
  const hash = createHash('sha256');
  try {
    hash.update(await readFile(path.join(dir, 'tokenizer.json')));
  } catch {
    return null;
  }
  hash.update(await readFile(path.join(dir, 'tokenizer_config.json')).catch(() => Buffer.alloc(0)));
  return hash.digest('hex');
}

/** The validation conversations as training examples, rendered with `tokenizer` like `parley dataset build`. */
export function renderValidationExamples(
  tokenizer: ChatTokenizer,
  conversations: ValidationConversation[],
  render: { systemPrompt: string | null; contextLength: number; minAgentTurns: number },
): TrainExample[] {
  return conversations.flatMap((conversation) => {
    const turns = trainingTurns(conversation.messages, render.systemPrompt);
    if (trainableTurnCount(turns) < render.minAgentTurns) return [];
    return windowExamples(tokenizer, turns, render.contextLength).map(({ ids, targets }) => ({
      ids,
      targets,
    }));
  });
}

export interface LossData {
  /** The dataset's artifact directory (validation.jsonl) and how it was rendered. */
  datasetDir: string;
  baseModel: string | null;
  systemPrompt: string | null;
  contextLength: number;
  minAgentTurns: number;
  conversations: ValidationConversation[];
}

/** The examples to score `modelDir` on: the dataset's own when the tokenizer and context allow. */
export async function validationExamplesFor(
  data: LossData,
  modelDir: string,
  model: CausalLM,
  tokenizer: ChatTokenizer,
): Promise<{ examples: TrainExample[]; tokenization: LossResult['tokenization'] }> {
  const [ours, theirs] = await Promise.all([
    tokenizerDigest(modelDir),
    data.baseModel ? tokenizerDigest(data.baseModel) : null,
  ]);
  if (ours !== null && ours === theirs) {
    const stored = await readExamples(data.datasetDir, 'validation');
    if (stored.every((e) => e.ids.length <= model.config.contextLength))
      return { examples: stored, tokenization: 'dataset' };
  }
  const contextLength = Math.min(data.contextLength, model.config.contextLength);
  return {
    examples: renderValidationExamples(tokenizer, data.conversations, { ...data, contextLength }),
    tokenization: 'rerendered',
  };
}

export async function validationLoss(
  model: CausalLM,
  examples: TrainExample[],
  tokenization: LossResult['tokenization'] = 'dataset',
): Promise<LossResult> {
  const scored = examples.filter((e) => targetCount(e) > 0);
  if (scored.length === 0) throw new Error('the validation split has no target tokens');
  const loss = await evaluateLoss(frozenModel(model), scored);
  return {
    validationLoss: loss,
    perplexity: Math.exp(loss),
    examples: scored.length,
    targetTokens: scored.reduce((n, e) => n + targetCount(e), 0),
    tokenization,
  };
}
