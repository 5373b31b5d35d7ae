import { matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import type { Recognizer } from './recognizer.js';

const EMAIL =
  /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+@(?:[\p{L}\p{N}-]+\.)+[\p{L}]{2,24}(?![\p{L}\p{N}@-])/gu;

export const emailRecognizer: Recognizer = {
  name: 'email',
  entities: ['EMAIL_ADDRESS'],
  analyze({ text }) {
    if (!text.includes('@')) return [];
    const found: DetectedEntity[] = [];
    for (const match of matchesOf(EMAIL, text)) {
      const local = match[0].slice(0, match[0].indexOf('@'));
      if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) continue;
      found.push({
        type: 'EMAIL_ADDRESS',
        start: match.index,
        end: match.index + match[0].length,
        score: 1,
        recognizer: 'email',
      });
    }
    return found;
  },
};
