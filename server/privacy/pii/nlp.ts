/**
 * Part-of-speech tags from wink-nlp's English lite model (shipped inside its npm package). Loaded
 * on first use; the person recognizer asks for tags only when a cheap cue leaves a name in doubt.
 */

import model from 'wink-eng-lite-web-model';
import winkNLP from 'wink-nlp';

export interface PosToken {
  start: number;
  end: number;
  /** Universal POS tag: PROPN, NOUN, VERB, AUX, PRON, ... */
  pos: string;
}

let nlp: ReturnType<typeof winkNLP> | undefined;

/** Tokens of `text` with UTF-16 offsets and POS tags. */
export function posTags(text: string): PosToken[] {
  nlp ??= winkNLP(model, ['pos']);
  const tokens = nlp.readDoc(text).tokens();
  const values = tokens.out(nlp.its.value) as string[];
  const tags = tokens.out(nlp.its.pos) as string[];
  const out: PosToken[] = [];
  let cursor = 0;
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i]!;
    const at = text.indexOf(value, cursor);
    if (at === -1) continue; // the tokenizer normalized it; offsets resume at the next token
    out.push({ start: at, end: at + value.length, pos: tags[i]! });
    cursor = at + value.length;
  }
  return out;
}

/** The tag of the token that starts at `start`, if any. */
export function posAt(tags: readonly PosToken[], start: number): string | undefined {
  let lo = 0;
  let hi = tags.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const tag = tags[mid]!;
    if (tag.start === start) return tag.pos;
    if (tag.start < start) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}
