import { luhnValid } from '../checksums.js';
import { digitsOf, distanceBefore, matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import type { Recognizer } from './recognizer.js';

// 13-19 digits, optionally grouped by single spaces or dashes.
const CARD = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-]|[.,]\d)/g;
// Issuer prefixes: Visa, Mastercard, Amex, Diners, Discover, JCB, UnionPay, Maestro.
const ISSUER = /^(?:4|5[1-5]|2[2-7]|3[47]|3(?:0[0-5]|[68])|6(?:011|5|4[4-9]|2)|35|5[06-9])/;
const CONTEXT = /\b(?:card|visa|master\s?card|amex|american\s+express|discover|cc|credit|debit)\b/gi;

export const creditCardRecognizer: Recognizer = {
  name: 'credit-card',
  entities: ['CREDIT_CARD'],
  analyze({ text }) {
    const found: DetectedEntity[] = [];
    for (const match of matchesOf(CARD, text)) {
      const digits = digitsOf(match[0]);
      if (!ISSUER.test(digits) || !luhnValid(digits)) continue;
      const near = distanceBefore(text, match.index, CONTEXT, 40) < 40;
      found.push({
        type: 'CREDIT_CARD',
        start: match.index,
        end: match.index + match[0].length,
        score: near ? 1 : 0.9,
        recognizer: 'credit-card',
      });
    }
    return found;
  },
};
