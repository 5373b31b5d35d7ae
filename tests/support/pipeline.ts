/**
 * The steps many integration tests start from: a tiny base model in Hugging Face layout, a
 * company's support logs ingested into Parley, and the environment for a child `parley` that
 * shares the test's database.
 */
import path from 'node:path';
import type { Document } from 'mongodb';
import type { Connection } from 'mongoose';
import type { Models } from '../../server/db/models/index.js';
import { inThreadAnonymizer } from '../../server/ingest/batch-anonymizer.js';
import { loadMapping } from '../../server/ingest/mappings/index.js';
import { runIngestion } from '../../server/ingest/run.js';
import { addSource } from '../../server/ingest/sources.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../server/ml/testing/tiny-tokenizer.js';
import { createAnonymizer } from '../../server/privacy/pii/index.js';
import type { TestMongo } from './mongo.js';

export const TEST_PII_KEY = Buffer.alloc(32, 7);

/** A tiny llama (context 64) with a ChatML word-level tokenizer, in `dir`/base. */
export async function tinyBaseModel(dir: string, seed = 1): Promise<string> {
  const base = path.join(dir, 'base');
  await writeTinyCheckpoint(base, { architecture: 'llama', contextLength: 64, seed });
  await writeTinyTokenizer(base, { chatTemplate: CHATML_TEMPLATE });
  return base;
}

/** Inserts raw helpdesk messages into a source database, adds it as source `name` and ingests it. */
export async function ingestShop(
  mongo: TestMongo,
  parley: { models: Models; connection: Connection },
  messages: Document[],
  name = 'shop',
): Promise<void> {
  const sourceDb = (await mongo.connect()).db!;
  const logs = sourceDb.collection('support_messages');
  await logs.insertMany(messages);
  await addSource(parley.models, {
    name,
    kind: 'mongodb',
    uri: mongo.uri,
    database: sourceDb.databaseName,
    collectionName: logs.collectionName,
    mapping: await loadMapping('demo-support-messages'),
  });
  const anonymizer = inThreadAnonymizer(createAnonymizer({ hashKey: TEST_PII_KEY }));
  await runIngestion({ ...parley, anonymizer, hashKey: TEST_PII_KEY }, name);
}

/** Environment for a child `parley` that works in the test's database. */
export function cliEnvSharing(
  mongo: TestMongo,
  connection: Connection,
  dataDir: string,
): Record<string, string> {
  const server = mongo.uri.split('?')[0]!.replace(/\/[^/]*$/, '');
  return {
    PARLEY_DATA_DIR: dataDir,
    TFJS_BACKEND: 'cpu',
    MONGODB_URI: `${server}/${connection.name}?directConnection=true&serverMonitoringMode=poll`,
  };
}
