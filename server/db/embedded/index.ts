import { mkdir } from 'node:fs/promises';
import type { AddressInfo, Server, Socket } from 'node:net';
import path from 'node:path';
import { type Logger, silentLogger } from '../../logger.js';
import { CommandRouter, CongoServer, type IStorageAdapter, MemoryStorageAdapter } from './congodb.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';
import { readSnapshot, type SnapshotStats, writeSnapshot } from './snapshot.js';

export { DataDirLockedError, readLiveLock } from './lock.js';
export type { SnapshotStats } from './snapshot.js';

export const SNAPSHOT_FILE = 'embedded-db.bson';

export interface EmbeddedMongoOptions {
  /** Where the snapshot and lock live; null keeps everything in memory (tests). */
  dataDir: string | null;
  /** Loopback port; 0 picks a free one. */
  port?: number;
  snapshotIntervalMs?: number;
  logger?: Logger;
}

export interface EmbeddedMongo {
  /** Connection string for the official driver (see embeddedUri). */
  readonly uri: string;
  readonly port: number;
  readonly snapshotFile: string | null;
  /** Writes a snapshot now if anything changed since the last one. */
  snapshot(): Promise<SnapshotStats | null>;
  /** Closes client connections, writes a final snapshot and releases the data directory. */
  stop(): Promise<void>;
}

/** Storage mutators; calling any of them means the next snapshot has work to do. */
const MUTATORS = new Set<string>([
  'createDatabase',
  'dropDatabase',
  'createCollection',
  'dropCollection',
  'renameCollection',
  'insertOne',
  'insertMany',
  'updateById',
  'deleteById',
  'deleteByIds',
  'saveIndex',
  'dropIndex',
]);

function trackChanges(storage: IStorageAdapter, onChange: () => void): IStorageAdapter {
  return new Proxy(storage, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (typeof property === 'string' && MUTATORS.has(property)) {
        return (...args: unknown[]) => {
          onChange();
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
}

/**
 * CongoDB needs directConnection, and polled server monitoring: it answers the driver's streaming
 * (exhaust) hello without moreToCome, the driver then marks the server unknown, clears the pool
 * and stalls every request for half a second, every heartbeat.
 */
export const embeddedUri = (port: number, database = 'parley') =>
  `mongodb://127.0.0.1:${port}/${database}?directConnection=true&serverMonitoringMode=poll`;

export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const logger = options.logger ?? silentLogger;
  const snapshotFile = options.dataDir ? path.join(options.dataDir, SNAPSHOT_FILE) : null;
  let lock: DataDirLock | null = null;
  if (options.dataDir) {
    await mkdir(options.dataDir, { recursive: true });
    lock = await acquireDataDirLock(options.dataDir);
  }

  try {
    let dirty = false;
    const storage = trackChanges(new MemoryStorageAdapter(), () => {
      dirty = true;
    });
    if (snapshotFile) {
      const started = performance.now();
      const loaded = await readSnapshot(storage, snapshotFile);
      if (loaded)
        logger.info({ ...loaded, ms: Math.round(performance.now() - started) }, 'embedded database restored');
    }
    dirty = false;

    const server = new CongoServer({ port: options.port ?? 0, host: '127.0.0.1' });
    // CongoServer builds its own storage and offers no hook; swap ours in before start().
    const internals = server as unknown as {
      storage: IStorageAdapter;
      commandRouter: CommandRouter;
      server: Server;
    };
    internals.storage = storage;
    internals.commandRouter = new CommandRouter(storage, server);
    await server.start();
    // Nagle's algorithm on CongoDB's sockets stalls multi-segment replies on delayed ACKs.
    internals.server.on('connection', (socket: Socket) => socket.setNoDelay(true));
    const port = (internals.server.address() as AddressInfo).port;
    await lock?.setPort(port);

    let snapshotting: Promise<SnapshotStats | null> = Promise.resolve(null);
    const snapshot = () => {
      snapshotting = snapshotting.then(async () => {
        if (!snapshotFile || !dirty) return null;
        dirty = false; // changes made while we write mark it dirty again
        try {
          const started = performance.now();
          const stats = await writeSnapshot(storage, snapshotFile);
          logger.debug(
            { ...stats, ms: Math.round(performance.now() - started) },
            'embedded database snapshot',
          );
          return stats;
        } catch (error) {
          dirty = true;
          throw error;
        }
      });
      return snapshotting;
    };
    const timer = snapshotFile
      ? setInterval(() => {
          snapshot().catch((err: unknown) => logger.error({ err }, 'embedded database snapshot failed'));
        }, options.snapshotIntervalMs ?? 5000)
      : null;
    timer?.unref();

    logger.info({ port, snapshotFile }, 'embedded database listening on loopback');
    let stopped: Promise<void> | null = null;
    return {
      uri: embeddedUri(port),
      port,
      snapshotFile,
      snapshot,
      stop() {
        stopped ??= (async () => {
          if (timer) clearInterval(timer);
          try {
            await server.stop();
            await snapshot();
          } finally {
            await lock?.release();
          }
        })();
        return stopped;
      },
    };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}
