import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Env, loadEnv } from '../../server/env.js';

/** A fresh temporary data directory; remove it with the returned cleanup. */
export async function tempDataDir(
  prefix = 'parley-test-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A validated Env for tests: port 0, quiet, demo off, embedded DB unless the caller sets MONGODB_URI. */
export function testEnv(dataDir: string, overrides: Record<string, string> = {}): Env {
  return loadEnv({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    PARLEY_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PARLEY_DEMO: 'false',
    // Not the default place, so the shipped starter model is neither installed nor served unless
    // a test asks for it (PARLEY_BASE_MODEL at PARLEY_DATA_DIR/models/starter).
    PARLEY_BASE_MODEL: path.join(dataDir, 'no-base-model'),
    ...overrides,
  });
}
