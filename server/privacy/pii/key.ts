import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';

export const PII_KEY_FILE = 'pii-hmac-key';
const KEY_BYTES = 32;

/**
 * The deployment's PII HMAC key: PARLEY_DATA_DIR/pii-hmac-key, generated on first use (32 random
 * bytes, mode 0600, created exclusively so two processes starting together keep one key).
 */
export async function loadPiiKey(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, PII_KEY_FILE);
  await mkdir(dataDir, { recursive: true });
  try {
    const handle = await open(file, 'wx', 0o600);
    const key = randomBytes(KEY_BYTES);
    await handle.writeFile(key);
    await handle.close();
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const key = await readFile(file);
    if (key.length < KEY_BYTES)
      throw new Error(`${file} holds a key shorter than ${KEY_BYTES} bytes; delete it to regenerate.`);
    return key;
  }
}
