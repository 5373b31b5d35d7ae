import { describe, expect, it } from 'vitest';
import { found } from '../helpers.js';

const numbers = (text: string, previousText?: string) =>
  found(text, { previousText }).filter(([type]) => type === 'ACCOUNT_NUMBER' || type === 'PIN');

describe('account number and PIN recognizers', () => {
  it.each([
    [
      'My account number is 153531981. My pin is 1596.',
      undefined,
      [
        ['ACCOUNT_NUMBER', '153531981'],
        ['PIN', '1596'],
      ],
    ],
    ['acct # 0012-3456-78', undefined, [['ACCOUNT_NUMBER', '0012-3456-78']]],
    ['member number 88421337', undefined, [['ACCOUNT_NUMBER', '88421337']]],
    [
      'My pin is either 3100 or 5380. Try those?',
      undefined,
      [
        ['PIN', '3100'],
        ['PIN', '5380'],
      ],
    ],
    ['The Access Code is 031431', undefined, [['PIN', '031431']]],
    ['my passcode: 77421', undefined, [['PIN', '77421']]],
    // bare replies typed by the question before them
    ['9931939443153', 'Can you tell me your account number, please?', [['ACCOUNT_NUMBER', '9931939443153']]],
    ['0314', 'Right, and your PIN as well please.', [['PIN', '0314']]],
    [
      '351531510, but I forgot my PIN',
      'what is your account number and pin',
      [['ACCOUNT_NUMBER', '351531510']],
    ],
    [
      '68318931 and 5380',
      'What are your account number and PIN?',
      [
        ['ACCOUNT_NUMBER', '68318931'],
        ['PIN', '5380'],
      ],
    ],
    // negatives: order and ticket numbers, amounts, balances, zip codes, no cue
    ['order #12345', undefined, []],
    ['ticket 88421', undefined, []],
    ['someone took $300 out of my account', undefined, []],
    ['I should have 5000 credits in my account', undefined, []],
    ['Your current balance is 5311 in credit.', 'Right, and your PIN as well please.', []],
    ['my zip code is 15213', undefined, []],
    ['95381901', undefined, []],
    ['ride id 983', 'Could you provide your booking ID, please?', []],
    ['Your current balance is 5311 in credit.', 'My account number is 153531981. My pin is 1596.', []],
  ])('%s (after %j) -> %j', (text, previousText, expected) => {
    expect(numbers(text, previousText)).toEqual(expected);
  });
});
