import { describe, expect, it } from 'vitest';
import { valuesOf } from '../helpers.js';

describe('US SSN recognizer', () => {
  it.each([
    ['SSN 123-45-6789', ['123-45-6789']],
    ['it is 536-22-1234 I think', ['536-22-1234']],
    ['social security number 536221234', ['536221234']],
    // negatives: invalid areas/groups/serials, no context for bare digits, phone-shaped
    ['000-12-3456', []],
    ['666-12-3456', []],
    ['912-12-3456', []],
    ['123-00-4567', []],
    ['123-45-0000', []],
    ['order 536221234', []],
    ['call 415-555-0132', []],
  ])('%s -> %j', (text, ssns) => {
    expect(valuesOf('US_SSN', text)).toEqual(ssns);
  });
});
