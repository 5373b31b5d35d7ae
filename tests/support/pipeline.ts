/**
 * The steps many integration tests start from: a tiny base model in Hugging Face layout, a
 * company's support logs ingested into Parley, and the environment for a child `parley` that
 * shares the test's database.
 */
import path from 'node:path';
import type { Document } from 'mongodb';
import type { Connection } from 'mongoose';
import { buildDataset } from '../../server/datasets/build.js';
import type { Models } from '../../server/db/models/index.js';
import { inThreadAnonymizer } from '../../server/ingest/batch-anonymizer.js';
import { loadMapping } from '../../server/ingest/mappings/index.js';
import { runIngestion } from '../../server/ingest/run.js';
import { addSource } from '../../server/ingest/sources.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { createAnonymizer } from '../../server/privacy/pii/index.js';
import type { TestMongo } from './mongo.js';
import { rawTicket } from './support-logs.js';

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

/**
 * 16 short order tickets ingested as source `shop` and built into a dataset for `base` (context
 * 64, 25% validation): what the training tests train on. Returns the dataset's id.
 */
export async function shopTrainingDataset(
  mongo: TestMongo,
  deps: { models: Models; connection: Connection; dataDir: string },
  base: string,
): Promise<string> {
  await ingestShop(
    mongo,
    deps,
    Array.from({ length: 16 }, (_, i) =>
      rawTicket(
        `T${i}`,
        ['where is my order', 'sorry for the delay it will arrive tomorrow'],
        new Date(Date.UTC(2024, 0, 1 + i)),
      ),
    ).flat(),
  );
  const dataset = await buildDataset(
    { models: deps.models, dataDir: deps.dataDir },
    { sources: ['shop'] },
    {
      tokenizer: await ChatTokenizer.load(base),
      baseModel: base,
      contextLength: 64,
      systemPrompt: null,
      validationPercent: 25,
    },
  );
  return dataset._id.toHexString();
}
