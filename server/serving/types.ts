/** What the chat engine takes and returns; shared by the main thread and the generation workers. */
import type { FinishReason } from '../ml/generate.js';
import type { SamplingOptions } from '../ml/sampling.js';

export type { FinishReason };

/** One message of a live conversation, as stored (server/db/models/conversation.ts roles). */
export interface ChatTurn {
  role: 'customer' | 'agent' | 'bot';
  text: string;
}

export interface ReplyOptions {
  /** Called with each piece of new text, in order; the pieces concatenate to the reply's text. */
  onToken?: (delta: string) => void;
  /** Stops generation at the next token; the reply keeps what was generated (finishReason "aborted"). */
  signal?: AbortSignal;
  /** Most tokens the reply may have; default DEFAULT_MAX_NEW_TOKENS (and never past the context). */
  maxNewTokens?: number;
  /** Default DEFAULT_SAMPLING. */
  sampling?: SamplingOptions;
  /** Seeds sampling, for reproducible replies; omit for a random seed. */
  seed?: number;
}

export interface Reply {
  text: string;
  /**
   * How sure the model was of this reply, in [0, 1]: the geometric mean of the probabilities the
   * model gave the tokens it generated (end-of-turn token included), i.e. exp(mean token
   * log-probability) = 1 / the reply's perplexity. Read from the model's own distribution
   * (temperature 1, before repetition penalty, top-k or top-p), so sampling settings do not change
   * it. It is the exponentiated score next-response ranking uses; 0 for an empty generation.
   */
  confidence: number;
  /** Registry label of the version that wrote the reply ("base" for the base model). */
  modelVersion: string;
  finishReason: FinishReason;
  /** Tokens generated (end-of-turn included). */
  tokens: number;
}

export const DEFAULT_MAX_NEW_TOKENS = 128;

/** Mildly creative and not repetitive; a support reply should be plain. */
export const DEFAULT_SAMPLING: Readonly<SamplingOptions> = {
  temperature: 0.7,
  topP: 0.9,
  repetitionPenalty: 1.1,
};

/** A reply request as sent to a generation worker. */
export interface ReplyRequest {
  turns: ChatTurn[];
  systemPrompt: string | null;
  maxNewTokens: number;
  sampling: SamplingOptions;
  seed?: number | undefined;
}

/** A reply as a generation worker returns it (the main thread adds the version label). */
export interface GeneratedReply {
  text: string;
  confidence: number;
  finishReason: FinishReason;
  tokens: number;
  /** Prompt tokens after fitting the conversation into the context. */
  promptTokens: number;
}
