import { describe, expect, it } from 'vitest';
import { deterministicId } from '../../../../server/db/ids.js';

describe('deterministicId', () => {
  it('returns the same ObjectId for the same namespace and parts', () => {
    expect(deterministicId('msg', 'star-1', 3).equals(deterministicId('msg', 'star-1', 3))).toBe(true);
  });

  it.each([
    [
      ['msg', 'star-1', 3],
      ['msg', 'star-1', 4],
    ],
    [
      ['msg', 'star-1', 3],
      ['conversation', 'star-1', 3],
    ],
    [
      ['msg', 'ab', 'c'],
      ['msg', 'a', 'bc'],
    ],
    [['msg', '1'], ['msg']],
  ])('separates %j from %j', (a, b) => {
    const [ns1, ...p1] = a as [string, ...(string | number)[]];
    const [ns2, ...p2] = b as [string, ...(string | number)[]];
    expect(deterministicId(ns1, ...p1).equals(deterministicId(ns2, ...p2))).toBe(false);
  });

  it('produces a valid 24-hex ObjectId', () => {
    expect(deterministicId('user', 'admin@parley.local').toHexString()).toMatch(/^[0-9a-f]{24}$/);
  });
});
