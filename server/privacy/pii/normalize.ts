/** The identity of a detected value: two spellings of the same value get the same pseudonym and hash. */
import type { EntityType } from './types.js';

const TITLE = /^(?:dr|mr|mrs|ms|mx|miss|mister|doctor|prof|professor|sir|madam)\.?\s+/i;

export function normalizeValue(type: EntityType, value: string): string {
  const text = value.normalize('NFC').trim();
  switch (type) {
    case 'PERSON':
      return text
        .toLowerCase()
        .replace(/["'“”‘’]/g, '')
        .replace(/\s+/g, ' ')
        .replace(TITLE, '')
        .trim();
    case 'PHONE_NUMBER':
      return text.replace(/^00/, '+').replace(/[^\d+]/g, '');
    case 'CREDIT_CARD':
    case 'ACCOUNT_NUMBER':
    case 'US_SSN':
      return text.replace(/\D/g, '');
    case 'PIN':
      return text.replace(/\s/g, '');
    case 'IBAN_CODE':
      return text.replace(/\s/g, '').toUpperCase();
    case 'PASSWORD':
      return text; // case matters in a password
    default:
      return text.toLowerCase().replace(/\s+/g, ' ');
  }
}
