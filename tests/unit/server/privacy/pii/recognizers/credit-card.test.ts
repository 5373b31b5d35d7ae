import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('credit card recognizer (Luhn)', () => {
  it.each([
    ['Card: 4111 1111 1111 1111', ['4111 1111 1111 1111']],
    ['use 5500-0055-5555-5559 instead', ['5500-0055-5555-5559']],
    ['amex 378282246310005', ['378282246310005']],
    // negatives: Luhn failures and numbers that are not card-shaped
    ['Card: 4111 1111 1111 1112', []],
    ['account 9931939443153', []],
    ['1234 5678 9012 3456', []],
    ['Order 4111111111', []],
  ])('%s -> %j', (text, cards) => {
    expect(valuesOf('CREDIT_CARD', text)).toEqual(cards);
  });
});
