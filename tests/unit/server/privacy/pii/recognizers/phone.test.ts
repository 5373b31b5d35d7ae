import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('phone recognizer', () => {
  it.each([
    ['Call me on +44 20 7946 0958 tomorrow.', ['+44 20 7946 0958']],
    ['My number is +1 (415) 555-0132.', ['+1 (415) 555-0132']],
    ['Berlin office: 0049 30 123456', ['0049 30 123456']],
    ['Reach me at 415-555-0132 or 415.555.0199', ['415-555-0132', '415.555.0199']],
    ['Toll free 1-800-555-0199', ['1-800-555-0199']],
    ['+33 1 42 68 53 00 is the Paris desk', ['+33 1 42 68 53 00']],
    ['phone 4155550132', ['4155550132']],
    ['London desk 020 7946 0958', ['020 7946 0958']],
    ['call 10000 99999 now', ['10000 99999']],
    // negatives: times, prices, order numbers, years, dates, ranges
    ['The store opens at 10:30 am.', []],
    ['It costs $4.50, or 12.99 EUR.', []],
    ['Your order #12345 and ticket 88421 are open.', []],
    ['Back in 2019 and 2020 we moved.', []],
    ['Delivered on 2020-05-13 at 13:14', []],
    ['The balance is 9,192,631,770 credits.', []],
    ['From 4 - 8 pm works.', []],
    ['Reference 4155550132', []],
    ['{{RAND order_id id 10000 99999}}', []],
  ])('%s -> %j', (text, phones) => {
    expect(valuesOf('PHONE_NUMBER', text)).toEqual(phones);
  });
});
