/**
 * Email addresses for the offline contact form: something@domain.tld, no spaces, at most 254
 * characters (RFC 5321's path limit). The same pattern is the input's `pattern` attribute, so the
 * browser explains a mismatch in the visitor's own language.
 */
export const EMAIL_PATTERN = '[^\\s@]+@[^\\s@.]+(\\.[^\\s@.]+)+';
const EMAIL = new RegExp(`^${EMAIL_PATTERN}$`);
const MAX_EMAIL_LENGTH = 254;

export function normalizeEmail(value: string): string {
  return value.trim();
}

export function isValidEmail(value: string): boolean {
  return value.length <= MAX_EMAIL_LENGTH && EMAIL.test(value);
}
