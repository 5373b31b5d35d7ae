import type { Connection } from 'mongoose';
import type { Env } from '../env.js';
import { type Logger, silentLogger } from '../logger.js';
import { connectMongo, redactMongoUri } from './connection.js';
import { type EmbeddedMongo, embeddedUri, readLiveLock, startEmbeddedMongo } from './embedded/index.js';
import { bindModels, ensureIndexes, type Models } from './models/index.js';

export type DatabaseMode = 'external' | 'embedded' | 'embedded-shared';

export interface Database {
  connection: Connection;
  models: Models;
  /** external: MONGODB_URI; embedded: started by this process; embedded-shared: a running server's. */
  mode: DatabaseMode;
  /** Connection string with credentials hidden. */
  uri: string;
  embedded: EmbeddedMongo | null;
  close(): Promise<void>;
}

type DatabaseEnv = Pick<
  Env,
  'MONGODB_URI' | 'PARLEY_DATA_DIR' | 'PARLEY_EMBEDDED_DB_PORT' | 'PARLEY_SNAPSHOT_INTERVAL_MS'
>;

/**
 * Opens Parley's database: MONGODB_URI when set, else the embedded server for PARLEY_DATA_DIR.
 * With `shareRunning`, a CLI command joins the embedded server a running Parley owns instead of
 * failing on its lock. `readOnly` skips index creation, so a status check changes nothing.
 */
export async function openDatabase(
  env: DatabaseEnv,
  options: { logger?: Logger; shareRunning?: boolean; readOnly?: boolean } = {},
): Promise<Database> {
  const logger = options.logger ?? silentLogger;
  let mode: DatabaseMode = 'external';
  let uri = env.MONGODB_URI;
  let embedded: EmbeddedMongo | null = null;

  if (!uri) {
    const running = options.shareRunning ? await readLiveLock(env.PARLEY_DATA_DIR) : null;
    if (running?.port) {
      mode = 'embedded-shared';
      uri = embeddedUri(running.port);
    } else {
      mode = 'embedded';
      embedded = await startEmbeddedMongo({
        dataDir: env.PARLEY_DATA_DIR,
        port: env.PARLEY_EMBEDDED_DB_PORT,
        snapshotIntervalMs: env.PARLEY_SNAPSHOT_INTERVAL_MS,
        logger,
      });
      uri = embedded.uri;
    }
  }

  try {
    const connection = await connectMongo(uri, { logger });
    const models = bindModels(connection);
    if (!options.readOnly) await ensureIndexes(models);
    return {
      connection,
      models,
      mode,
      uri: redactMongoUri(uri),
      embedded,
      async close() {
        await connection.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
