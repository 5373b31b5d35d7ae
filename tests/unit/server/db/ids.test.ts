import { describe, expect, it } from 'vitest';
import { deterministicHex, deterministicId } from '../../../../server/db/ids.js';

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

  // Stored conversations, messages and users carry these ids: re-ingesting after an upgrade must
  // derive the very same ones, or it duplicates everything. Computed by the first implementation.
  it.each([
    [['message', '65a1b2c3d4e5f60718293a4b', 'star-1', '3'], 'de2a58566c1cc1849d3140ab'],
    [['user', 'admin@parley.local'], '17b8eb7fbf5de3f4e540206a'],
    [['conversation', '65a1b2c3d4e5f60718293a4b', 'Zoë — 東京 🚚', 7], '333d7f1a2af22b73ef7d3bb8'],
  ])('derives %j as %s, as every earlier version did', (input, hex) => {
    const [namespace, ...parts] = input as [string, ...(string | number)[]];
    expect(deterministicId(namespace, ...parts).toHexString()).toBe(hex);
    expect(deterministicHex(namespace, ...parts)).toBe(hex);
  });

  it('produces a valid 24-hex ObjectId', () => {
    expect(deterministicId('user', 'admin@parley.local').toHexString()).toMatch(/^[0-9a-f]{24}$/);
  });
});
