/**
 * Demo data: the company's raw support logs (a separate database on the same server, playing the
 * company's MongoDB) and demo staff. Idempotent: every document has a deterministic `_id`.
 */
import path from 'node:path';
import type { Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import { deterministicId } from '../server/db/ids.js';
import { insertNew } from '../server/db/insert-new.js';
import type { Models } from '../server/db/models/index.js';
import { SELF_URI } from '../server/ingest/connectors/index.js';
import { loadMapping } from '../server/ingest/mappings/index.js';
import { ensureSource } from '../server/ingest/sources.js';
import { type DemoCredential, ensureDemoUsers } from './demo-users.js';
import { DIALOGUE_DIR, DIALOGUE_FILES, readDialogues } from './dialogues.js';
import {
  DEMO_SOURCE_COLLECTION,
  DEMO_SOURCE_DATABASE,
  type RawSupportMessage,
  toRawMessages,
} from './raw-support-logs.js';

export { DEMO_SOURCE_COLLECTION, DEMO_SOURCE_DATABASE } from './raw-support-logs.js';

const BATCH = 2000;
export const SEED_STATE_KEY = 'seed';
/** The source `parley ingest --source demo` reads: the demo logs on Parley's own server. */
export const DEMO_SOURCE_NAME = 'demo';
export const seedStateId = () => deterministicId('system-state', SEED_STATE_KEY);

export interface SeedOptions {
  connection: Connection;
  models: Models;
  dataDir: string;
  /** Conversations per shipped file; default all. */
  limitPerFile?: number;
  onProgress?: (progress: { file: string; conversations: number; messages: number }) => void;
}

export interface SeedSummary {
  source: {
    database: string;
    collection: string;
    conversations: number;
    messages: number;
    inserted: number;
    existing: number;
  };
  users: { created: DemoCredential[]; existing: string[]; credentialsFile: string };
  durationMs: number;
}

export function demoSourceCollection(connection: Connection): Collection<RawSupportMessage> {
  return connection
    .useDb(DEMO_SOURCE_DATABASE, { useCache: true })
    .collection<RawSupportMessage>(DEMO_SOURCE_COLLECTION);
}

export async function seedDemo(options: SeedOptions): Promise<SeedSummary> {
  const started = performance.now();
  const collection = demoSourceCollection(options.connection);
  // What an incremental reader of this source filters and sorts on.
  await collection.createIndex({ created_at: 1, _id: 1 });
  await collection.createIndex({ ticket_id: 1 });

  const source = {
    database: DEMO_SOURCE_DATABASE,
    collection: DEMO_SOURCE_COLLECTION,
    conversations: 0,
    messages: 0,
    inserted: 0,
    existing: 0,
  };
  for (const file of DIALOGUE_FILES) {
    let batch: RawSupportMessage[] = [];
    const flush = async () => {
      const result = await insertNew(collection, batch);
      source.inserted += result.inserted;
      source.existing += result.existing;
      batch = [];
    };
    for await (const dialogue of readDialogues(path.join(DIALOGUE_DIR, file), options.limitPerFile)) {
      const messages = toRawMessages(dialogue);
      batch.push(...messages);
      source.conversations += 1;
      source.messages += messages.length;
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    options.onProgress?.({ file, conversations: source.conversations, messages: source.messages });
  }

  await ensureSource(options.models, {
    name: DEMO_SOURCE_NAME,
    kind: 'mongodb',
    uri: SELF_URI,
    database: DEMO_SOURCE_DATABASE,
    collectionName: DEMO_SOURCE_COLLECTION,
    mapping: await loadMapping('demo-support-messages'),
  });
  const users = await ensureDemoUsers(options.models, options.dataDir);
  const summary: SeedSummary = { source, users, durationMs: Math.round(performance.now() - started) };
  await options.models.SystemState.updateOne(
    { _id: seedStateId() },
    {
      $set: {
        key: SEED_STATE_KEY,
        value: { at: new Date(), source, users: [...users.created.map((u) => u.email), ...users.existing] },
      },
    },
    { upsert: true },
  );
  return summary;
}

/** Whether the demo data was seeded into this database before. */
export async function isSeeded(models: Models): Promise<boolean> {
  return (await models.SystemState.exists({ _id: seedStateId() })) !== null;
}
