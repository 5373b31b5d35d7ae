import type { Collection, Document } from 'mongodb';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mongodbConnector } from '../../server/ingest/connectors/mongodb.js';
import type { SourceReader } from '../../server/ingest/connectors/types.js';
import { loadMapping } from '../../server/ingest/mappings/index.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { rawMessage } from '../support/support-logs.js';

describe('the MongoDB connector', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let logs: Collection<Document>;
  let reader: SourceReader;
  const total = 23;

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    const db = connection.db!;
    logs = db.collection('connector_logs');
    // Inserted newest first, so read order is the connector's doing and not insertion order.
    const start = Date.parse('2026-01-01T00:00:00Z');
    await logs.insertMany(
      Array.from({ length: total }, (_, i) =>
        rawMessage({ ticket: `t${i % 5}`, at: new Date(start + (total - i) * 1000) }),
      ),
    );
    reader = mongodbConnector(
      {
        name: 'connector-test',
        uri: mongo.uri,
        database: db.databaseName,
        collectionName: logs.collectionName,
        mapping: await loadMapping('demo-support-messages'),
      },
      { ownConnection: connection },
    );
  });
  afterAll(async () => {
    await reader.close();
    await mongo.stop();
  });

  it('reads every document once, in timestamp order, in batches of at most batchSize', async () => {
    const sizes: number[] = [];
    const times: number[] = [];
    for await (const batch of reader.batches({ after: null, batchSize: 5 })) {
      sizes.push(batch.documents.length);
      for (const document of batch.documents) times.push((document.created_at as Date).getTime());
    }
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(total);
  });

  it('continues after a watermark', async () => {
    const all: Document[] = [];
    for await (const batch of reader.batches({ after: null, batchSize: 100 })) all.push(...batch.documents);
    const mark = { ts: all[9]!.created_at, id: all[9]!._id };
    const rest: Document[] = [];
    for await (const batch of reader.batches({ after: mark, batchSize: 4 })) rest.push(...batch.documents);
    expect(rest.map((d) => String(d._id))).toEqual(all.slice(10).map((d) => String(d._id)));
    expect(await reader.count(mark)).toBe(total - 10);
  });

  it('stops cleanly when the reader leaves after one batch, with the next one already asked for', async () => {
    for await (const batch of reader.batches({ after: null, batchSize: 2 })) {
      expect(batch.documents).toHaveLength(2);
      break;
    }
    // The source is still readable in full afterwards.
    let read = 0;
    for await (const batch of reader.batches({ after: null, batchSize: 7 })) read += batch.documents.length;
    expect(read).toBe(total);
  });
});
