import { describe, expect, it } from 'vitest';
import {
  newVisitorId,
  signVisitorToken,
  verifyVisitorToken,
} from '../../../../../server/realtime/widget/visitor-token.js';

const SECRET = 'a'.repeat(48);
const SITE = '0123456789abcdef01234567';

describe('visitor tokens', () => {
  it('proves the visitor id it was signed for, on its own site', () => {
    const visitorId = newVisitorId();
    const token = signVisitorToken(SECRET, { siteId: SITE, visitorId });
    expect(verifyVisitorToken(SECRET, token, SITE)).toEqual({ siteId: SITE, visitorId });
  });

  it('makes a different visitor id every time', () => {
    const ids = new Set(Array.from({ length: 100 }, newVisitorId));
    expect(ids.size).toBe(100);
  });

  const token = signVisitorToken(SECRET, { siteId: SITE, visitorId: 'visitor-aaaaaaaaaaaaaaaa' });
  it.each([
    ['another site', token, 'fedcba9876543210fedcba98', SECRET],
    ['another secret', token, SITE, 'b'.repeat(48)],
    ['a changed visitor id', token.replace('visitor-a', 'visitor-b'), SITE, SECRET],
    ['a changed signature', `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, SITE, SECRET],
    ['a truncated token', token.slice(0, token.lastIndexOf('.')), SITE, SECRET],
    ['another version', token.replace(/^v1/, 'v2'), SITE, SECRET],
    ['a non-string', 42, SITE, SECRET],
    ['an oversized string', `${token}${'x'.repeat(300)}`, SITE, SECRET],
  ])('proves nothing with %s', (_case, candidate, site, secret) => {
    expect(verifyVisitorToken(secret, candidate, site)).toBeNull();
  });
});
