import { describe, expect, it } from 'vitest';
import { findBrokenUnicode } from '../../../server/unicode.js';

describe('findBrokenUnicode', () => {
  it.each<[string, unknown, string | null]>([
    ['plain text', { name: 'Ada' }, null],
    ['a surrogate pair (emoji)', { text: '😀 👩‍👩‍👧‍👦 𝕏' }, null],
    ['BOM, RTL override, NUL and combining marks', ['\uFEFF\u202E\u0000e\u0301'], null],
    ['numbers, booleans, null and binary', { a: 1, b: true, c: null, d: Buffer.from([0xed, 0xa0]) }, null],
    ['a lone high surrogate', { text: 'a\uD800b' }, 'body.text'],
    ['a lone low surrogate at the end', { text: 'ab\uDC00' }, 'body.text'],
    ['a pair in the wrong order', { text: '\uDC00\uD800' }, 'body.text'],
    ['one deep in arrays', { a: [{ b: ['ok', '\uD83D'] }] }, 'body.a.0.b.1'],
    ['one in a key', { 'k\uD800': 1 }, 'body (a key)'],
    ['a bare string', '\uDFFF', 'body'],
  ])('%s: the path of the first broken string, or null', (_label, value, path) => {
    expect(findBrokenUnicode(value)).toBe(path);
  });

  it('walks input nested 100 000 deep without overflowing the stack', () => {
    let deep: unknown = '\uD800';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findBrokenUnicode(deep)).toMatch(/^body(\.0)+$/);
  });
});
