import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { DEMO_SOURCE_DATABASE, isSeeded } from '../../seed/index.js';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { printJson } from './output.js';

export function registerDbStatus(program: Command): void {
  const db = program.command('db').description('database commands');
  db.command('status')
    .description(
      "print the database's mode, server version, collections with document counts, and seed state (JSON)",
    )
    .action(async () => {
      const env = loadEnv();
      const database = await openDatabase(env, { shareRunning: true, readOnly: true });
      try {
        const { connection } = database;
        const build = await connection.db!.admin().command({ buildInfo: 1 });
        const counts = async (names: string[], dbName?: string) => {
          const target = dbName ? connection.useDb(dbName, { useCache: true }) : connection;
          const result: Record<string, number> = {};
          for (const name of names.sort())
            result[name] = await target.collection(name).estimatedDocumentCount();
          return result;
        };
        const ownCollections = (await connection.db!.listCollections({}, { nameOnly: true }).toArray()).map(
          (c) => c.name,
        );
        const demoDb = connection.useDb(DEMO_SOURCE_DATABASE, { useCache: true });
        const demoCollections = (await demoDb.db!.listCollections({}, { nameOnly: true }).toArray()).map(
          (c) => c.name,
        );
        const snapshotFile = database.embedded?.snapshotFile ?? null;
        const snapshot = snapshotFile ? await stat(snapshotFile).catch(() => null) : null;

        printJson({
          ok: true,
          mode: database.mode,
          uri: database.uri,
          database: connection.name,
          serverVersion: build.version ?? null,
          collections: await counts(ownCollections),
          demoSource: {
            database: DEMO_SOURCE_DATABASE,
            collections: await counts(demoCollections, DEMO_SOURCE_DATABASE),
          },
          seeded: await isSeeded(database.models),
          snapshot: snapshotFile
            ? {
                file: snapshotFile,
                bytes: snapshot?.size ?? 0,
                savedAt: snapshot?.mtime.toISOString() ?? null,
              }
            : null,
        });
      } finally {
        await database.close();
      }
    });
}
