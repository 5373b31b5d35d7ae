import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid } from '../../../../../server/privacy/pii/checksums.js';

describe('luhnValid', () => {
  it.each([
    ['4111111111111111', true],
    ['5500005555555559', true],
    ['378282246310005', true],
    ['79927398713', true],
    ['4111111111111112', false],
    ['79927398710', false],
    ['1234567812345678', false],
    ['', false],
    ['4111-1111', false],
  ])('%s -> %s', (digits, valid) => {
    expect(luhnValid(digits)).toBe(valid);
  });
});

describe('ibanValid (ISO 7064 mod 97)', () => {
  it.each([
    ['DE89370400440532013000', true],
    ['GB29NWBK60161331926819', true],
    ['FR1420041010050500013M02606', true],
    ['NL91ABNA0417164300', true],
    ['de89370400440532013000', true],
    ['DE89370400440532013001', false], // one digit off
    ['DE88370400440532013000', false], // wrong check digits
    ['DE8937040044053201300', false], // wrong length for DE
    ['XX89370400440532013000', false], // unknown country
    ['GB29 NWBK 6016 1331 9268 19', false], // spaces are the caller's to strip
  ])('%s -> %s', (iban, valid) => {
    expect(ibanValid(iban)).toBe(valid);
  });
});
