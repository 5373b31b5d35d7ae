import mongoose, { type Connection } from 'mongoose';
import { type Logger, silentLogger } from '../logger.js';

/** Hides credentials in a MongoDB connection string, for logs and status output. */
export function redactMongoUri(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/)([^@/]+)@/, '$1***@');
}

/** The database a URI names, or the fallback when it names none. */
export function databaseName(uri: string, fallback = 'parley'): string {
  const afterHosts = uri.replace(/^mongodb(?:\+srv)?:\/\/[^/]*/, '');
  const name = afterHosts.replace(/^\//, '').split('?')[0];
  return name ? decodeURIComponent(name) : fallback;
}

export async function connectMongo(
  uri: string,
  options: { logger?: Logger; serverSelectionTimeoutMS?: number; dbName?: string } = {},
): Promise<Connection> {
  const logger = options.logger ?? silentLogger;
  const connection = mongoose.createConnection(uri, {
    dbName: options.dbName ?? databaseName(uri),
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    // Collections and indexes are created once at boot by ensureIndexes(), not as a side effect.
    autoIndex: false,
    autoCreate: false,
  });
  await connection.asPromise();
  logger.info({ uri: redactMongoUri(uri), db: connection.name }, 'connected to MongoDB');
  return connection;
}

/** Pings the server; resolves false instead of throwing, within `timeoutMs`. */
export async function pingMongo(connection: Connection, timeoutMs = 2000): Promise<boolean> {
  if (connection.readyState !== mongoose.ConnectionStates.connected || !connection.db) return false;
  const ping = connection.db.admin().command({ ping: 1 });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([ping.then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
