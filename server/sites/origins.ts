import { badRequest } from '../errors.js';

/**
 * "https://Shop.Example:443/path" -> "https://shop.example": the form a browser sends in its
 * Origin header. Throws a 400 for anything that is not an http(s) origin.
 */
export function normalizeOrigin(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw badRequest(`"${input}" is not an origin: expected e.g. https://shop.example`, 'bad_origin');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw badRequest(`"${input}" is not an http(s) origin`, 'bad_origin');
  if (url.username || url.password)
    throw badRequest(`"${input}" carries credentials; an origin is scheme, host and port only`, 'bad_origin');
  return url.origin;
}

/** Exact match on the normalized origin; an absent Origin header never matches. */
export function isOriginAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin) return false;
  let normalized: string;
  try {
    normalized = normalizeOrigin(origin);
  } catch {
    return false;
  }
  return allowed.includes(normalized);
}
