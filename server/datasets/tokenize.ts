/**
 * A chat as token ids with the spans the loss counts, through the model's own chat template.
 * Each turn's tokens are found by rendering the chat up to it: what the template adds to open an
 * assistant turn ("<|im_start|>assistant\n") is context, the reply and its end-of-turn tokens are
 * the target, so the model learns to stop.
 */
import type { ChatTokenizer } from '../ml/tokenizer.js';
import type { TrainingTurn } from './turns.js';

export interface Span {
  start: number;
  /** Exclusive. */
  end: number;
}

export interface TokenizedChat {
  ids: number[];
  /** Token span of each turn, in order. */
  turns: Span[];
  /** Token spans the loss counts. */
  targets: Span[];
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

function startsWith(ids: number[], prefix: number[]): boolean {
  if (prefix.length > ids.length) return false;
  for (let i = 0; i < prefix.length; i += 1) if (ids[i] !== prefix[i]) return false;
  return true;
}

export function tokenizeChat(tokenizer: ChatTokenizer, turns: TrainingTurn[]): TokenizedChat {
  const spans: Span[] = [];
  const targets: Span[] = [];
  let previous: number[] = [];
  for (let i = 0; i < turns.length; i += 1) {
    const messages = turns.slice(0, i + 1).map(({ role, content }) => ({ role, content }));
    const ids = tokenizer.encodeChat(messages);
    if (!startsWith(ids, previous)) {
      throw new TemplateError(
        'the chat template renders a chat differently from its prefix; cannot find turn boundaries',
      );
    }
    spans.push({ start: previous.length, end: ids.length });
    const turn = turns[i]!;
    if (turn.train) {
      const opened = i === 0 ? [] : tokenizer.encodeChat(messages.slice(0, i), { addGenerationPrompt: true });
      const start =
        startsWith(ids, opened) && opened.length >= previous.length ? opened.length : previous.length;
      if (start < ids.length) targets.push({ start, end: ids.length });
    }
    previous = ids;
  }
  return { ids: previous, turns: spans, targets };
}
