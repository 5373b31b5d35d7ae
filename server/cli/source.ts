import { type Command, Option } from 'commander';
import { recordAudit } from '../audit.js';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { loadMapping, SHIPPED_MAPPINGS } from '../ingest/mappings/index.js';
import { presentSource } from '../ingest/present.js';
import { addSource, verifyMongoSource } from '../ingest/sources.js';
import { printJson } from './output.js';

export function registerSource(program: Command): void {
  const source = program
    .command('source')
    .description('the MongoDB collections Parley ingests support logs from');

  source
    .command('add')
    .description(
      'add a source: a MongoDB collection and the field mapping that reads it (checks that it answers)',
    )
    .requiredOption('--name <name>', 'a short unique name, used by `parley ingest --source`')
    .requiredOption(
      '--uri <uri>',
      'MongoDB connection string (kept secret), or "self" for the server Parley uses',
    )
    .requiredOption('--db <database>', 'database name')
    .requiredOption('--collection <collection>', 'collection name')
    .requiredOption(
      '--mapping <file>',
      `field mapping: a JSON file, or a shipped one (${Object.keys(SHIPPED_MAPPINGS).join(', ')})`,
    )
    .addOption(new Option('--no-verify', 'add it without checking that it answers'))
    .action(
      async (options: {
        name: string;
        uri: string;
        db: string;
        collection: string;
        mapping: string;
        verify: boolean;
      }) => {
        const env = loadEnv();
        const mapping = await loadMapping(options.mapping);
        const spec = { uri: options.uri, database: options.db, collectionName: options.collection };
        if (options.verify) await verifyMongoSource(spec);
        const database = await openDatabase(env, { shareRunning: true });
        try {
          const added = await addSource(database.models, {
            name: options.name,
            kind: 'mongodb',
            mapping,
            ...spec,
          });
          await recordAudit(database.models, {
            action: 'source.add',
            actor: { kind: 'cli' },
            target: { type: 'source', id: added._id.toHexString() },
            details: { name: added.name, kind: added.kind },
          });
          printJson(presentSource(added));
        } finally {
          await database.close();
        }
      },
    );

  source
    .command('list')
    .description('list sources with their watermark and last run (never their URIs), as JSON')
    .action(async () => {
      const env = loadEnv();
      const database = await openDatabase(env, { shareRunning: true, readOnly: true });
      try {
        const { Source, IngestionRun } = database.models;
        const sources = await Source.find({}).sort({ name: 1 }).lean();
        const listed = [];
        for (const s of sources) {
          const lastRun = await IngestionRun.findOne({ sourceId: s._id }).sort({ startedAt: -1 }).lean();
          listed.push(presentSource(s, lastRun));
        }
        printJson(listed);
      } finally {
        await database.close();
      }
    });
}
