import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Collection, Db, Document } from 'mongodb';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { inThreadAnonymizer } from '../../server/ingest/batch-anonymizer.js';
import { loadMapping } from '../../server/ingest/mappings/index.js';
import { presentSource } from '../../server/ingest/present.js';
import { type IngestOptions, runIngestion } from '../../server/ingest/run.js';
import { addSource, ensureSource, getSourceSpec, sourceIdFor } from '../../server/ingest/sources.js';
import { workerAnonymizer } from '../../server/ingest/worker-anonymizer.js';
import { createAnonymizer } from '../../server/privacy/pii/index.js';
import { tempDataDir } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { rawMessage, rawTicket } from '../support/support-logs.js';

const hashKey = Buffer.alloc(32, 7);
const anonymizer = inThreadAnonymizer(createAnonymizer({ hashKey }));

describe('ingestion', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  let sourceDb: Db;
  let logs: Collection<Document>;
  let sourceName: string;
  let counter = 0;

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    sourceDb = (await mongo.connect()).db!;
  });
  afterAll(() => mongo.stop());

  beforeEach(async () => {
    counter += 1;
    sourceName = `logs-${counter}`;
    logs = sourceDb.collection(`support_messages_${counter}`);
    await logs.insertOne(rawMessage({ ticket: 'setup' })); // the collection must exist
    await logs.deleteMany({});
    await addSource(models, {
      name: sourceName,
      kind: 'mongodb',
      uri: mongo.uri,
      database: sourceDb.databaseName,
      collectionName: logs.collectionName,
      mapping: await loadMapping('demo-support-messages'),
    });
  });

  const ingest = (options: IngestOptions = {}) =>
    runIngestion({ models, connection, anonymizer, hashKey }, sourceName, { batchSize: 4, ...options });
  const conversationsOf = () =>
    models.Conversation.find({ sourceId: sourceIdFor(sourceName) })
      .sort({ sourceConversationId: 1 })
      .lean();

  it('stores conversations with anonymized text only, and counts what it did', async () => {
    await logs.insertMany([
      ...rawTicket('t1', [
        'Hi, my name is Tyler Jones',
        'Thanks Tyler, how can I help?',
        'My card was stolen',
      ]),
      ...rawTicket('t2', ['Where is my order #12345?', 'It ships today.'], new Date(Date.UTC(2024, 0, 2))),
    ]);
    const summary = await ingest();
    expect(summary).toMatchObject({
      status: 'succeeded',
      read: 5,
      conversations: 2,
      messages: 5,
      quarantined: 0,
    });
    expect(summary.pii.entities.PERSON).toBeGreaterThanOrEqual(2);

    const [t1, t2] = await conversationsOf();
    expect(t1?.messages.map((m) => m.role)).toEqual(['customer', 'agent', 'customer']);
    expect(JSON.stringify(t1)).not.toMatch(/Tyler|Jones/);
    expect(t1?.messages[0]?.text).toBe('Hi, my name is <PERSON_1>');
    expect(t1?.messages[1]?.text).toBe('Thanks <PERSON_1>, how can I help?');
    expect(t1?.anonymizedAt).toBeInstanceOf(Date);
    expect(t1?.customerId).toMatch(/^cust_[0-9a-f]{16}$/);
    expect(t2?.messages[0]?.text).toBe('Where is my order #12345?');
  });

  it('anonymizes on a worker thread exactly as in this thread', async () => {
    await logs.insertMany([
      ...rawTicket('t1', [
        'Hi, my name is Tyler Jones',
        'Thanks Tyler, how can I help?',
        'Call me at +1 (415) 555-0132',
      ]),
      ...rawTicket('t2', ['I am Ana Lima', 'Hello Ana'], new Date(Date.UTC(2024, 0, 2))),
    ]);
    const worker = await workerAnonymizer({ hashKey });
    try {
      const summary = await runIngestion({ models, connection, anonymizer: worker, hashKey }, sourceName, {
        batchSize: 2,
      });
      expect(summary).toMatchObject({ read: 5, conversations: 2, messages: 5 });
    } finally {
      await worker.close();
    }
    const [t1, t2] = await conversationsOf();
    expect(t1?.messages.map((m) => m.text)).toEqual([
      'Hi, my name is <PERSON_1>',
      'Thanks <PERSON_1>, how can I help?',
      'Call me at <PHONE_NUMBER_1>',
    ]);
    expect(t2?.messages.map((m) => m.text)).toEqual(['I am <PERSON_1>', 'Hello <PERSON_1>']);
  });

  it('adds nothing when re-run, incrementally or in full', async () => {
    await logs.insertMany(rawTicket('t1', ['one', 'two', 'three', 'four', 'five']));
    const first = await ingest();
    expect(first.messages).toBe(5);

    expect(await ingest()).toMatchObject({ read: 0, conversations: 0, messages: 0 });
    expect(await ingest({ full: true })).toMatchObject({ read: 5, conversations: 0, messages: 0 });
    const stored = await conversationsOf();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.messages).toHaveLength(5);
  });

  it('appends messages that arrive later to their conversation, in timestamp order, with the same pseudonyms', async () => {
    const start = new Date(Date.UTC(2024, 0, 1));
    await logs.insertMany(rawTicket('t1', ['My name is Ana Lima', 'Hello Ana'], start));
    await ingest();
    await logs.insertMany([
      rawMessage({
        ticket: 't1',
        author: 'agent',
        body: 'Anything else, Ana?',
        at: new Date(start.getTime() + 5000),
      }),
      rawMessage({ ticket: 't1', body: 'Yes, one more thing', at: new Date(start.getTime() + 3000) }),
    ]);
    const second = await ingest();
    expect(second).toMatchObject({ read: 2, conversations: 1, messages: 2 });

    const [t1] = await conversationsOf();
    expect(t1?.messages.map((m) => m.text)).toEqual([
      'My name is <PERSON_1>',
      'Hello <PERSON_1>',
      'Yes, one more thing',
      'Anything else, <PERSON_1>?',
    ]);
    expect(t1?.lastMessageAt.getTime()).toBe(start.getTime() + 5000);
  });

  it('quarantines bad documents with their source _id and a reason, once', async () => {
    const bad = [
      rawMessage({ ticket: 't1', body: '' }),
      rawMessage({ ticket: 't1', author: 'supervisor' }),
      rawMessage({ ticket: 't1', body: 42 }),
    ];
    await logs.insertMany([...bad, ...rawTicket('t2', ['fine', 'also fine'])]);
    const summary = await ingest();
    expect(summary).toMatchObject({ read: 5, messages: 2, quarantined: 3 });

    const entries = await models.QuarantinedDocument.find({ sourceId: sourceIdFor(sourceName) }).lean();
    expect(entries.map((e) => String(e.sourceDocumentId)).sort()).toEqual(
      bad.map((d) => String(d._id)).sort(),
    );
    expect(entries.map((e) => e.reason).sort()).toEqual([
      'empty text in field "body" (text)',
      'field "body" (text) must be a string: got a number',
      'unknown role "supervisor" in field "author_type" (role); the mapping knows end_user, agent, admin, bot',
    ]);

    await ingest({ full: true });
    expect(await models.QuarantinedDocument.countDocuments({ sourceId: sourceIdFor(sourceName) })).toBe(3);
  });

  it('resumes a run stopped midway from its last committed batch, ending as a clean run would', async () => {
    const tickets = ['a', 'b', 'c', 'd', 'e'].flatMap((t, i) =>
      rawTicket(t, ['q1', 'a1', 'q2'], new Date(Date.UTC(2024, 0, 1 + i))),
    );
    await logs.insertMany(tickets);
    const controller = new AbortController();
    const stopped = await ingest({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.read >= 4) controller.abort();
      },
    });
    // It stops after the batches already read: the one committed when it was asked, and the next.
    expect(stopped).toMatchObject({ status: 'cancelled', read: 8 });
    const source = await getSourceSpec(models, sourceName);
    // The last committed batch ended inside ticket c, still open then (its last message the
    // newest read), so it was held back and the watermark stops just before it.
    expect(source.watermark.id).toEqual(tickets[5]?._id);

    const resumed = await ingest();
    expect(resumed).toMatchObject({ status: 'succeeded', read: 9 });
    const stored = await conversationsOf();
    expect(stored.map((c) => c.messages.length)).toEqual([3, 3, 3, 3, 3]);
    const runs = await models.IngestionRun.find({ sourceId: sourceIdFor(sourceName) })
      .sort({ startedAt: 1 })
      .lean();
    expect(runs.map((r) => r.status)).toEqual(['cancelled', 'succeeded']);
  });

  it('writes a conversation held back at a batch boundary whole, also across a cancelled run', async () => {
    const start = new Date(Date.UTC(2024, 0, 1));
    const minutes = (n: number) => new Date(start.getTime() + n * 60_000);
    const documents = [
      rawMessage({ ticket: 'done', at: minutes(0) }),
      rawMessage({ ticket: 'done', author: 'agent', at: minutes(1) }),
      rawMessage({ ticket: 'open', body: 'My name is Ana Lima', at: minutes(100) }),
      rawMessage({ ticket: 'other', at: minutes(101) }),
      // batch boundary (batchSize 4): "open" and "other" are younger than the idle window
      rawMessage({ ticket: 'open', author: 'agent', body: 'Hello Ana', at: minutes(102) }),
      rawMessage({ ticket: 'later', at: minutes(500) }),
    ];
    await logs.insertMany(documents);
    const controller = new AbortController();
    const stopped = await ingest({
      holdOpenMs: 30 * 60_000,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.read >= 4) controller.abort();
      },
    });
    expect(stopped.status).toBe('cancelled');

    const resumed = await ingest({ holdOpenMs: 30 * 60_000 });
    expect(resumed.status).toBe('succeeded');
    const stored = await conversationsOf();
    expect(stored.map((c) => [c.sourceConversationId, c.messages.map((m) => m.text)])).toEqual([
      ['done', ['Hello, I need help', 'Hello, I need help']],
      ['later', ['Hello, I need help']],
      ['open', ['My name is <PERSON_1>', 'Hello <PERSON_1>']],
      ['other', ['Hello, I need help']],
    ]);
  });

  it('saves a watermark just before the earliest message it still holds back', async () => {
    const start = new Date(Date.UTC(2024, 0, 1));
    const minutes = (n: number) => new Date(start.getTime() + n * 60_000);
    const documents = [
      rawMessage({ ticket: 'done', at: minutes(0) }),
      rawMessage({ ticket: 'done', at: minutes(1) }),
      rawMessage({ ticket: 'open', at: minutes(100) }),
      rawMessage({ ticket: 'open', at: minutes(101) }),
      rawMessage({ ticket: 'open', at: minutes(102) }),
    ];
    await logs.insertMany(documents);
    const controller = new AbortController();
    const stopped = await ingest({
      holdOpenMs: 30 * 60_000,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.read >= 4) controller.abort();
      },
    });
    expect(stopped).toMatchObject({ status: 'cancelled', messages: 2 });
    expect((await getSourceSpec(models, sourceName)).watermark.id).toEqual(documents[1]?._id);
    expect((await conversationsOf()).map((c) => c.sourceConversationId)).toEqual(['done']);

    expect(await ingest({ holdOpenMs: 30 * 60_000 })).toMatchObject({ read: 3, messages: 3 });
    expect((await getSourceSpec(models, sourceName)).watermark.id).toEqual(documents[4]?._id);
  });

  it('re-reading a batch whose watermark was lost (a crash before it was saved) duplicates nothing', async () => {
    await logs.insertMany(rawTicket('t1', ['one', 'two', 'three']));
    await ingest();
    await models.Source.updateOne(
      { _id: sourceIdFor(sourceName) },
      { $set: { watermark: { ts: null, id: null } } },
    );
    expect(await ingest()).toMatchObject({ read: 3, messages: 0 });
    expect((await conversationsOf())[0]?.messages).toHaveLength(3);
  });

  it('refuses a second run while one holds the source, and names the conflict', async () => {
    await models.Source.updateOne(
      { _id: sourceIdFor(sourceName) },
      {
        $set: {
          lease: {
            runId: sourceIdFor('other-run'),
            owner: 'elsewhere:1',
            expiresAt: new Date(Date.now() + 60_000),
          },
        },
      },
    );
    await expect(ingest()).rejects.toMatchObject({ status: 409, id: 'ingest_running' });
  });

  it('takes over the lease of a run whose process is gone', async () => {
    await logs.insertMany(rawTicket('t1', ['one']));
    const staleRun = sourceIdFor('stale-run');
    await models.IngestionRun.create({
      _id: staleRun,
      sourceId: sourceIdFor(sourceName),
      startedAt: new Date(),
    });
    await models.Source.updateOne(
      { _id: sourceIdFor(sourceName) },
      {
        $set: {
          lease: {
            runId: staleRun,
            owner: `${(await import('node:os')).hostname()}:999999`,
            expiresAt: new Date(Date.now() + 60_000),
          },
        },
      },
    );
    expect(await ingest()).toMatchObject({ status: 'succeeded', messages: 1 });
    expect((await models.IngestionRun.findById(staleRun).lean())?.status).toBe('failed');
  });

  it('records per-type PII counts on the run, never the values', async () => {
    await logs.insertMany(rawTicket('t1', ['I am Maria Garcia, email maria.garcia@example.com', 'Thanks']));
    const summary = await ingest();
    const run = await models.IngestionRun.findById(summary.runId).lean();
    expect(run?.pii?.entities).toMatchObject({ EMAIL_ADDRESS: 1 });
    expect(JSON.stringify(run)).not.toMatch(/maria/i);
  });

  it('never returns the URI when presenting a source', async () => {
    const source = await models.Source.findById(sourceIdFor(sourceName)).lean();
    expect(source).not.toHaveProperty('uri');
    expect(JSON.stringify(presentSource(source!))).not.toContain(mongo.uri.split('?')[0]!);
  });

  it('names the known sources when asked for an unknown one', async () => {
    await expect(getSourceSpec(models, 'nope')).rejects.toThrow(new RegExp(`Known sources: .*${sourceName}`));
  });
});

describe('ingestion of conversation-per-document files', () => {
  let mongo: TestMongo;
  let models: Models;
  let connection: Connection;
  let dataDir: { dir: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    dataDir = await tempDataDir();
  });
  afterAll(async () => {
    await mongo.stop();
    await dataDir.cleanup();
  });

  it('imports JSON lines in the seed/data format, quarantining broken lines, and re-imports nothing', async () => {
    const file = path.join(dataDir.dir, 'conversations.jsonl');
    const line = (id: string, turns: { role: string; text: string }[]) =>
      JSON.stringify({
        conversationId: id,
        channel: 'chat',
        startedAt: '2024-05-01T10:00:00Z',
        turns: turns.map((t, i) => ({ ...t, ts: `2024-05-01T10:00:0${i}Z` })),
        meta: { apiCalls: [{ api: 'lookup', args: { name: 'Priya Patel' } }] },
      });
    await writeFile(
      file,
      [
        line('c1', [
          { role: 'customer', text: 'My name is Priya Patel' },
          { role: 'agent', text: 'Thanks Priya' },
        ]),
        '{not json',
        line('c2', [{ role: 'customer', text: 'Hello' }]),
      ].join('\n'),
    );
    await ensureSource(models, {
      name: 'file:conversations.jsonl',
      kind: 'file',
      uri: file,
      database: null,
      collectionName: null,
      mapping: await loadMapping('conversations'),
    });
    const run = () => runIngestion({ models, connection, anonymizer, hashKey }, 'file:conversations.jsonl');
    expect(await run()).toMatchObject({ read: 3, conversations: 2, messages: 3, quarantined: 1 });
    expect(await run()).toMatchObject({ read: 3, conversations: 0, messages: 0, quarantined: 1 });

    const c1 = await models.Conversation.findOne({ sourceConversationId: 'c1' }).lean();
    expect(c1?.messages.map((m) => m.text)).toEqual(['My name is <PERSON_1>', 'Thanks <PERSON_1>']);
    expect(JSON.stringify(c1?.meta)).toContain('<PERSON_1>');
    expect(JSON.stringify(c1?.meta)).not.toContain('Priya');
    const [entry] = await models.QuarantinedDocument.find({}).lean();
    expect(entry).toMatchObject({
      sourceDocumentId: 'conversations.jsonl:2',
      reason: expect.stringMatching(/^line 2 is not valid JSON/),
    });
  });
});
