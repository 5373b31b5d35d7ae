import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { startEmbeddedMongo } from '../../server/db/embedded/index.js';
import { loadEnv } from '../../server/env.js';

export interface TestMongo {
  /** 'embedded' in CI; 'mongodb' when MONGODB_URI points the suite at a real server. */
  kind: 'embedded' | 'mongodb';
  uri: string;
  connect(dbName?: string): Promise<Connection>;
  stop(): Promise<void>;
}

/**
 * The database a test runs against: a real MongoDB when MONGODB_URI is set (each test gets its
 * own database, dropped afterwards), else an in-memory embedded server on a free loopback port.
 */
export async function startTestMongo(): Promise<TestMongo> {
  const external = loadEnv().MONGODB_URI;
  const embedded = external ? null : await startEmbeddedMongo({ dataDir: null, port: 0 });
  const uri = external ?? embedded!.uri;
  const connections: { connection: Connection; dbName: string }[] = [];
  return {
    kind: external ? 'mongodb' : 'embedded',
    uri,
    async connect(dbName = `parley_test_${randomBytes(4).toString('hex')}`) {
      const connection = await mongoose
        .createConnection(uri, { dbName, autoCreate: false, autoIndex: false })
        .asPromise();
      connections.push({ connection, dbName });
      return connection;
    },
    async stop() {
      for (const { connection } of connections) {
        if (external) await connection.dropDatabase().catch(() => undefined);
        await connection.close();
      }
      await embedded?.stop();
    },
  };
}
