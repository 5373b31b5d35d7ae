import { IBAN_LENGTHS, ibanValid } from '../checksums.js';
import { matchesOf } from '../text.js';
import type { DetectedEntity } from '../types.js';
import type { Recognizer } from './recognizer.js';

// Country code, check digits, then the BBAN in groups of 4 separated by single spaces, or compact.
const IBAN = /(?<![A-Za-z0-9])([A-Z]{2})(\d{2})((?: ?[A-Z0-9]){10,32})/g;

export const ibanRecognizer: Recognizer = {
  name: 'iban',
  entities: ['IBAN_CODE'],
  analyze({ text }) {
    const found: DetectedEntity[] = [];
    for (const match of matchesOf(IBAN, text)) {
      const length = IBAN_LENGTHS[match[1]!];
      if (length === undefined) continue;
      // The pattern may run into following words: take exactly the country's length.
      let compact = '';
      let end = match.index;
      for (let i = match.index; i < match.index + match[0].length && compact.length < length; i += 1) {
        if (text[i] !== ' ') compact += text[i];
        end = i + 1;
      }
      if (compact.length !== length || /[A-Za-z0-9]/.test(text.charAt(end))) continue;
      if (!ibanValid(compact)) continue;
      found.push({ type: 'IBAN_CODE', start: match.index, end, score: 1, recognizer: 'iban' });
    }
    return found;
  },
};
