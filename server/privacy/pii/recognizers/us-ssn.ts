import { distanceBefore, matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import type { Recognizer } from './recognizer.js';

// Area 001-899 except 666, group 01-99, serial 0001-9999; same separator twice, or none.
const SSN = /(?<![\d-])(?!000|666|9)\d{3}([- ]?)(?!00)\d{2}\1(?!0000)\d{4}(?![\d-]|[.,]\d)/g;
const CONTEXT = /\b(?:ssn|social\s+security|social\s+sec|ss\s?#|taxpayer|tin)\b/gi;

export const usSsnRecognizer: Recognizer = {
  name: 'us-ssn',
  entities: ['US_SSN'],
  analyze({ text }) {
    const found: DetectedEntity[] = [];
    for (const match of matchesOf(SSN, text)) {
      const separator = match[1];
      const near = distanceBefore(text, match.index, CONTEXT, 40) < 40;
      // Dashed xxx-xx-xxxx is the SSN's own format; spaced or bare 9 digits need the context.
      const score = separator === '-' ? (near ? 1 : 0.85) : near ? 0.85 : 0.3;
      found.push({
        type: 'US_SSN',
        start: match.index,
        end: match.index + match[0].length,
        score,
        recognizer: 'us-ssn',
      });
    }
    return found;
  },
};
