import { type Collection, MongoClient } from 'mongodb';
import { afterWatermark, readOrder } from '../watermark.js';
import type { Connector, SourceDocument } from './types.js';

/** The URI that means "the MongoDB server Parley itself uses" (the demo source lives there). */
export const SELF_URI = 'self';

export const mongodbConnector: Connector = (source, { ownConnection }) => {
  if (!source.database || !source.collectionName) {
    throw new Error(`Source ${source.name} needs a database and a collection.`);
  }
  const ownClient = source.uri === SELF_URI;
  const client = ownClient
    ? ownConnection.getClient()
    : new MongoClient(source.uri, { serverSelectionTimeoutMS: 10_000, appName: 'parley-ingest' });
  const collection: Collection<SourceDocument> = client.db(source.database).collection(source.collectionName);
  const timestampPath = source.mapping.fields.timestamp;

  return {
    incremental: true,
    // A full read counts from the collection's metadata, not by scanning every document.
    count: (after) =>
      after
        ? collection.countDocuments(afterWatermark(timestampPath, after))
        : collection.estimatedDocumentCount(),
    async *batches({ after, batchSize }) {
      const cursor = collection
        .find(afterWatermark(timestampPath, after))
        .sort(readOrder(timestampPath))
        .batchSize(batchSize);
      // One server batch at a time, taken whole from the driver's buffer, and the next one asked
      // for before this one is handed on: the source prepares it while ingestion works.
      const nextBatch = async (): Promise<SourceDocument[] | null> => {
        const first = await cursor.next();
        return first ? [first, ...cursor.readBufferedDocuments(batchSize - 1)] : null;
      };
      let pending = nextBatch();
      try {
        for (let documents = await pending; documents; documents = await pending) {
          pending = nextBatch();
          pending.catch(() => undefined); // awaited on the next turn, or dropped with the cursor
          yield { documents, rejected: [] };
        }
      } finally {
        await cursor.close();
      }
    },
    async close() {
      if (!ownClient) await client.close();
    },
  };
};
