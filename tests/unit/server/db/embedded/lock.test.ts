import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireDataDirLock,
  DataDirLockedError,
  lockPath,
  readLiveLock,
} from '../../../../../server/db/embedded/lock.js';
import { tempDataDir } from '../../../../support/env.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('data directory lock', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDataDir()));
  afterEach(() => cleanup());

  it('records the owner pid and, once known, its port', async () => {
    const lock = await acquireDataDirLock(dir);
    await lock.setPort(40123);
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8'))).toMatchObject({
      pid: process.pid,
      port: 40123,
    });
    await lock.release();
  });

  it('refuses a second owner while the first one lives', async () => {
    const other = { pid: process.ppid, port: 1234, startedAt: new Date().toISOString() };
    await writeFile(lockPath(dir), JSON.stringify(other));
    const error = await acquireDataDirLock(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as Error).message).toContain(`pid ${process.ppid}`);
    expect(await readLiveLock(dir)).toMatchObject({ pid: process.ppid, port: 1234 });
  });

  it('takes over a stale lock whose process is gone', async () => {
    await writeFile(lockPath(dir), JSON.stringify({ pid: deadPid(), port: 1, startedAt: '' }));
    expect(await readLiveLock(dir)).toBeNull();
    const lock = await acquireDataDirLock(dir);
    expect(JSON.parse(await readFile(lockPath(dir), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock left by an earlier process with the same pid (a restarted container: PID 1 again)', async () => {
    await writeFile(lockPath(dir), JSON.stringify({ pid: process.pid, port: 1, startedAt: '' }));
    expect(await readLiveLock(dir)).toBeNull();
    const lock = await acquireDataDirLock(dir);
    expect(await readLiveLock(dir)).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('refuses a second lock on the same directory in the same process', async () => {
    const lock = await acquireDataDirLock(dir);
    await expect(acquireDataDirLock(dir)).rejects.toBeInstanceOf(DataDirLockedError);
    await lock.release();
    const again = await acquireDataDirLock(dir);
    await again.release();
  });

  it('removes the lock file on release', async () => {
    const lock = await acquireDataDirLock(dir);
    await lock.release();
    await expect(readFile(lockPath(dir))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
