/**
 * Conversations longer than the model's context are cut into windows of whole turns, each
 * starting with the system prompt, so no turn is split between examples. A single turn longer
 * than the context is cut at the context length (its example is marked truncated).
 */
import type { ChatTokenizer } from '../ml/tokenizer.js';
import { type Span, tokenizeChat } from './tokenize.js';
import type { TrainingTurn } from './turns.js';

export interface Example {
  ids: number[];
  targets: Span[];
  /** Index of the first and one past the last conversation turn in this window. */
  turnRange: [number, number];
  truncated: boolean;
}

function clip(spans: Span[], length: number): Span[] {
  return spans.filter((s) => s.start < length).map((s) => ({ start: s.start, end: Math.min(s.end, length) }));
}

export function windowExamples(
  tokenizer: ChatTokenizer,
  turns: TrainingTurn[],
  contextLength: number,
): Example[] {
  const system = turns[0]?.role === 'system' ? [turns[0]] : [];
  const body = turns.slice(system.length);
  const whole = tokenizeChat(tokenizer, turns);
  const lengthOf = (span: Span) => span.end - span.start;
  const systemLength = system.length ? lengthOf(whole.turns[0]!) : 0;
  const examples: Example[] = [];

  let first = 0;
  while (first < body.length) {
    let last = first;
    let length = systemLength + lengthOf(whole.turns[system.length + first]!);
    while (
      last + 1 < body.length &&
      length + lengthOf(whole.turns[system.length + last + 1]!) <= contextLength
    ) {
      last += 1;
      length += lengthOf(whole.turns[system.length + last]!);
    }
    const window = [...system, ...body.slice(first, last + 1)];
    if (window.some((t) => t.train)) {
      const chat = first === 0 && last === body.length - 1 ? whole : tokenizeChat(tokenizer, window);
      const truncated = chat.ids.length > contextLength;
      examples.push({
        ids: truncated ? chat.ids.slice(0, contextLength) : chat.ids,
        targets: truncated ? clip(chat.targets, contextLength) : chat.targets,
        turnRange: [first, last + 1],
        truncated,
      });
    }
    first = last + 1;
  }
  return examples.filter((e) => e.targets.length > 0);
}
