import { COMMON_WORDS } from '../lexicon/common-words.js';
import { matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import type { Recognizer } from './recognizer.js';

const CUE = /\b(?:pass\s?word|passwd|pwd)(?:\s+(?:is|was)|\s*[:=]|'s)\s*(?:is\s+)?["'“‘]?([^\s"'”’]+)/gi;
const ASKED_REPLY =
  /^\s*(?:(?:it'?s|it\s+is|my\s+password\s+is|sure,?)\s+)?["'“‘]?([^\s"'”’]+?)["'”’]?\.?\s*$/i;
const NOT_A_PASSWORD = new Set(
  'incorrect wrong invalid expired reset locked forgotten correct changed same different weak strong required case hidden secret blank empty missing long short ok fine there'.split(
    ' ',
  ),
);

function looksLikePassword(value: string): boolean {
  if (value.length < 3) return false;
  const lower = value.toLowerCase();
  return !(/^[a-z]+$/i.test(value) && (COMMON_WORDS.has(lower) || NOT_A_PASSWORD.has(lower)));
}

const trimTrailing = (value: string): string => value.replace(/[.,;:)]+$/, '');

export const passwordRecognizer: Recognizer = {
  name: 'password',
  entities: ['PASSWORD'],
  analyze({ text, asked }) {
    const found: DetectedEntity[] = [];
    for (const match of matchesOf(CUE, text)) {
      const value = trimTrailing(match[1]!);
      if (!looksLikePassword(value)) continue;
      const start = match.index + match[0].length - match[1]!.length;
      found.push({ type: 'PASSWORD', start, end: start + value.length, score: 0.85, recognizer: 'password' });
    }
    if (found.length === 0 && asked.includes('password')) {
      const reply = ASKED_REPLY.exec(text);
      if (reply && looksLikePassword(reply[1]!)) {
        const value = trimTrailing(reply[1]!);
        const start = text.indexOf(reply[1]!, reply.index);
        found.push({
          type: 'PASSWORD',
          start,
          end: start + value.length,
          score: 0.75,
          recognizer: 'password',
        });
      }
    }
    return found;
  },
};
