import { describe, expect, it } from 'vitest';
import { isOriginAllowed, normalizeOrigin } from '../../../../server/sites/index.js';

describe('normalizeOrigin', () => {
  it.each([
    ['https://Shop.Example', 'https://shop.example'],
    ['https://shop.example:443/checkout?x=1', 'https://shop.example'],
    ['http://localhost:8080/', 'http://localhost:8080'],
    [' http://127.0.0.1:3001 ', 'http://127.0.0.1:3001'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeOrigin(input)).toBe(expected);
  });

  it.each(['shop.example', 'ftp://shop.example', 'javascript:alert(1)', 'https://user:pw@shop.example', ''])(
    'rejects %j with a 400 that says what an origin is',
    (input) => {
      expect(() => normalizeOrigin(input)).toThrow(/origin/);
    },
  );
});

describe('isOriginAllowed', () => {
  const allowed = ['https://shop.example', 'http://localhost:8080'];
  it.each([
    ['https://shop.example', true],
    ['https://SHOP.example', true],
    ['http://shop.example', false],
    ['https://shop.example.evil.test', false],
    ['https://evil.test', false],
    ['http://localhost:8081', false],
    ['null', false],
    [undefined, false],
  ])('%s -> %s', (origin, expected) => {
    expect(isOriginAllowed(origin, allowed)).toBe(expected);
  });
});
