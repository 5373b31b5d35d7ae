import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Env } from './env.js';

const SECRET_FILE = 'session-secret';

/** SESSION_SECRET, else the one generated on first start and kept (mode 0600) in PARLEY_DATA_DIR. */
export async function loadSessionSecret(
  env: Pick<Env, 'SESSION_SECRET' | 'PARLEY_DATA_DIR'>,
): Promise<string> {
  if (env.SESSION_SECRET) return env.SESSION_SECRET;
  const file = path.join(env.PARLEY_DATA_DIR, SECRET_FILE);
  await mkdir(env.PARLEY_DATA_DIR, { recursive: true });
  try {
    const handle = await open(file, 'wx', 0o600);
    const secret = randomBytes(48).toString('base64url');
    await handle.writeFile(secret);
    await handle.close();
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < 32)
      throw new Error(`${file} holds a secret shorter than 32 characters; delete it to regenerate.`);
    return secret;
  }
}
