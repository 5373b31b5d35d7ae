import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPiiKey } from '../../../../../server/privacy/pii/index.js';
import { tempDataDir } from '../../../../support/env.js';

describe('loadPiiKey', () => {
  let data: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    data = await tempDataDir();
  });
  afterEach(() => data.cleanup());

  it('generates 32 random bytes once, mode 0600, and returns the same key afterwards', async () => {
    const dir = path.join(data.dir, 'nested');
    const [a, b] = await Promise.all([loadPiiKey(dir), loadPiiKey(dir)]);
    expect(a).toHaveLength(32);
    expect(b.equals(a)).toBe(true);
    expect((await loadPiiKey(dir)).equals(a)).toBe(true);
    expect((await stat(path.join(dir, 'pii-hmac-key'))).mode & 0o777).toBe(0o600);
    const other = await tempDataDir();
    try {
      expect((await loadPiiKey(other.dir)).equals(a)).toBe(false);
    } finally {
      await other.cleanup();
    }
  });

  it('refuses a truncated key file', async () => {
    await writeFile(path.join(data.dir, 'pii-hmac-key'), 'short');
    await expect(loadPiiKey(data.dir)).rejects.toThrow(/shorter than 32 bytes/);
  });
});
