import { digitsOf, distanceBefore, matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import type { Recognizer } from './recognizer.js';

// Digits with the usual separators, optionally after + or 00 (international) or in parentheses.
const CANDIDATE = /(?<![\w+$€£¥#/.,:-])(?:\+|\b00)?\(?\d[\d ().-]{5,22}\d(?![\w/%:]|[.,]\d)/g;
const INTERNATIONAL = /^(?:\+|00)[1-9]/;
// North American: (415) 555-0132, 415-555-0132, 415.555.0132, 1-800-555-0199.
const NANP = /^(?:1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}$/;
const GROUPED = /^\(?\d{2,5}\)?(?:[ .-]\d{2,6}){1,4}$/;
const DATE_LIKE = /^\d{1,4}[.-]\d{1,2}[.-]\d{1,4}$/;
const CONTEXT =
  /\b(?:phone|call|calling|tel|telephone|mobile|cell|cellphone|number|reach|text|whats\s?app|fax|contact|ring)\b/gi;

export const phoneRecognizer: Recognizer = {
  name: 'phone',
  entities: ['PHONE_NUMBER'],
  analyze({ text, asked }) {
    const found: DetectedEntity[] = [];
    for (const match of matchesOf(CANDIDATE, text)) {
      const value = match[0];
      const digits = digitsOf(value);
      if (digits.length < 7 || digits.length > 15 + (value.startsWith('00') ? 2 : 0)) continue;
      if ((value.match(/\(/g)?.length ?? 0) !== (value.match(/\)/g)?.length ?? 0)) continue;
      if (/[ .-]{2}/.test(value.replace(/ - /g, '-')) || DATE_LIKE.test(value)) continue;
      let score: number;
      if (INTERNATIONAL.test(value)) score = 0.85;
      else if (NANP.test(value)) score = 0.75;
      // National formats start with a trunk 0 (020 7946 0958); other digit groups, such as the
      // id ranges "10000 99999", need a context word to count.
      else if (GROUPED.test(value) && digits.length >= 9 && /^\(?0/.test(value)) score = 0.5;
      else score = 0.35;
      if (distanceBefore(text, match.index, CONTEXT, 30) < 30 || asked.includes('phone')) score += 0.3;
      found.push({
        type: 'PHONE_NUMBER',
        start: match.index,
        end: match.index + value.length,
        score: Math.min(score, 1),
        recognizer: 'phone',
      });
    }
    return found;
  },
};
