/**
 * One process owns an embedded database's data directory at a time: two writers of the same
 * snapshot would lose each other's data. The owner records its pid and port, so `parley` CLI
 * commands can talk to the running server's database instead of opening a second copy.
 */
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface LockInfo {
  pid: number;
  port: number | null;
  startedAt: string;
}

const LOCK_FILE = 'embedded-db.lock.json';

export const lockPath = (dataDir: string) => path.join(dataDir, LOCK_FILE);

/**
 * Lock files this process holds. A lock that names this process's pid but is not among them was
 * left by an earlier process that had the same pid: a container that restarts after a crash runs
 * Parley as PID 1 again, and would otherwise find its own pid alive and refuse to start.
 */
const heldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live owner of `dataDir`'s embedded database, or null (a stale lock counts as none). */
export async function readLiveLock(dataDir: string): Promise<LockInfo | null> {
  let info: LockInfo;
  try {
    info = JSON.parse(await readFile(lockPath(dataDir), 'utf8')) as LockInfo;
  } catch {
    return null;
  }
  if (info.pid === process.pid && !heldHere.has(path.resolve(lockPath(dataDir)))) return null;
  return isAlive(info.pid) ? info : null;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: LockInfo,
  ) {
    super(
      `Another Parley process (pid ${owner.pid}) is using the embedded database in ${dataDir}. ` +
        'Stop it first, or point PARLEY_DATA_DIR at another directory.',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  setPort(port: number): Promise<void>;
  release(): Promise<void>;
}

export async function acquireDataDirLock(dataDir: string): Promise<DataDirLock> {
  const file = lockPath(dataDir);
  const info: LockInfo = { pid: process.pid, port: null, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(JSON.stringify(info));
      await handle.close();
      heldHere.add(path.resolve(file));
      return {
        setPort: async (port) => writeFile(file, JSON.stringify({ ...info, port }), { mode: 0o600 }),
        release: async () => {
          heldHere.delete(path.resolve(file));
          await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = await readLiveLock(dataDir);
      if (owner) throw new DataDirLockedError(dataDir, owner);
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`Could not lock ${file}.`);
}
