/**
 * A visitor's identity across reloads and reconnects: "v1.<siteId>.<visitorId>.<signature>", an
 * HMAC-SHA256 over the rest with the session secret. The widget keeps it in localStorage; a
 * token that does not verify (forged, another site's, another deployment's) is simply ignored and
 * the visitor gets a new identity, so nobody can claim another visitor's conversation.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';

export interface VisitorIdentity {
  siteId: string;
  visitorId: string;
}

const sign = (secret: string, payload: string) =>
  createHmac('sha256', secret).update(`parley-visitor:${payload}`).digest('base64url');

/** 128 random bits, URL-safe. */
export const newVisitorId = () => randomBytes(16).toString('base64url');

export function signVisitorToken(secret: string, identity: VisitorIdentity): string {
  const payload = `${VERSION}.${identity.siteId}.${identity.visitorId}`;
  return `${payload}.${sign(secret, payload)}`;
}

/** The identity a token proves for this site, or null when it proves nothing. */
export function verifyVisitorToken(secret: string, token: unknown, siteId: string): VisitorIdentity | null {
  if (typeof token !== 'string' || token.length > 200) return null;
  const parts = token.split('.');
  if (parts.length !== 4) return null;
  const [version, tokenSiteId, visitorId, signature] = parts as [string, string, string, string];
  if (version !== VERSION || tokenSiteId !== siteId || !/^[\w-]{16,64}$/.test(visitorId)) return null;
  const expected = Buffer.from(sign(secret, `${version}.${tokenSiteId}.${visitorId}`));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return { siteId, visitorId };
}
