import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('password recognizer', () => {
  it.each([
    ['my password is hunter2.', undefined, ['hunter2']],
    ['Password: Tr0ub4dor&3', undefined, ['Tr0ub4dor&3']],
    ["the password's sunflower", undefined, ['sunflower']],
    ['s3cr3t!', 'What is your password?', ['s3cr3t!']],
    // negatives
    ['my password is incorrect', undefined, []],
    ['I forgot my password', undefined, []],
    ['password reset please', undefined, []],
    ['yes', 'What is your password?', []],
  ])('%s (after %j) -> %j', (text, previousText, passwords) => {
    expect(valuesOf('PASSWORD', text, { previousText })).toEqual(passwords);
  });
});
