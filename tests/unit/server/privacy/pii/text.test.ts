import { describe, expect, it } from 'vitest';
import { matchesOf } from '../../../../../server/privacy/pii/text.js';

const simplify = (matches: Iterable<RegExpMatchArray>) =>
  [...matches].map((m) => ({ index: m.index, groups: [...m] }));

describe('matchesOf', () => {
  it.each([
    [/\d+/g, 'call 555 0100 or 555-0199'],
    [/(\w)(\d)?/g, 'a1 b c3'],
    [/x*/g, 'axxb'], // empty matches advance instead of looping
    [/\bno\b/gi, 'No digits here'],
    [/z/g, 'nothing to find'],
  ])('finds what matchAll finds: %s in "%s"', (re, text) => {
    expect(simplify(matchesOf(re, text))).toEqual(simplify(text.matchAll(re)));
  });

  it('starts from the beginning whatever the regex was left at, and leaves it there', () => {
    const re = /\d/g;
    re.lastIndex = 3;
    expect(matchesOf(re, '12345').map((m) => m[0])).toEqual(['1', '2', '3', '4', '5']);
    expect(re.lastIndex).toBe(0);
  });
});
