import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('IBAN recognizer (mod 97)', () => {
  it.each([
    ['IBAN DE89 3704 0044 0532 0130 00 please', ['DE89 3704 0044 0532 0130 00']],
    ['GB29NWBK60161331926819.', ['GB29NWBK60161331926819']],
    ['to FR14 2004 1010 0505 0001 3M02 606 AND more', ['FR14 2004 1010 0505 0001 3M02 606']],
    // negatives
    ['DE89 3704 0044 0532 0130 01', []],
    ['SKU AB12 3456 7890 1234', []],
    ['XX89370400440532013000', []],
  ])('%s -> %j', (text, ibans) => {
    expect(valuesOf('IBAN_CODE', text)).toEqual(ibans);
  });
});
