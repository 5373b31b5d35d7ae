import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/** argon2id with the library's defaults (OWASP's recommended minimum: m=19 MiB, t=2, p=1). */
export const hashPassword = (password: string) => hash(password);

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed hash never verifies
  }
}

/** 16 URL-safe characters, ~96 bits: for generated demo and first-run passwords. */
export const generatePassword = () => randomBytes(12).toString('base64url');
