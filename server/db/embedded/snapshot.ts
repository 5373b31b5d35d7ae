/**
 * Type-preserving snapshots of the embedded database.
 *
 * CongoDB's own `persistPath` writes JSON: after a restart every Date is a string and every
 * ObjectId outside `_id` is a string, so date-range queries silently match nothing. We write
 * BSON instead (one length-prefixed document after another, like mongodump), through the
 * storage adapter's public interface, to a temporary file that is renamed over the old one,
 * so a crash mid-write never leaves a torn snapshot.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { congoPlugins, type IStorageAdapter } from './congodb.js';

const { BSON } = congoPlugins.bson;
const FORMAT = 'parley-embedded-snapshot';
const VERSION = 1;
const DEFAULT_ID_INDEX = '_id_';
const YIELD_EVERY = 2000;

type Header = { format: string; version: number; savedAt: Date };
type CollectionHeader = { db: string; collection: string; indexes: IndexSpec[] };
type IndexSpec = { name: string; [key: string]: unknown };

export interface SnapshotStats {
  databases: number;
  collections: number;
  documents: number;
  bytes: number;
}

/**
 * Writes every database, collection, index and document of `storage` to `file`, atomically.
 *
 * The snapshot is point-in-time: all collections are captured before any is serialized (the
 * storage replaces a document on update rather than mutating it, so the captured references
 * keep their state). Serializing with pauses in between could otherwise save a source's
 * watermark from after a batch next to conversations from before it.
 */
export async function writeSnapshot(storage: IStorageAdapter, file: string): Promise<SnapshotStats> {
  const captured: { header: CollectionHeader; documents: unknown[] }[] = [];
  const stats: SnapshotStats = { databases: 0, collections: 0, documents: 0, bytes: 0 };
  for (const db of await storage.listDatabases()) {
    stats.databases += 1;
    for (const collection of await storage.listCollections(db)) {
      stats.collections += 1;
      const indexes = (await storage.getIndexes(db, collection)) as IndexSpec[];
      captured.push({
        header: { db, collection, indexes },
        documents: await storage.findAll(db, collection),
      });
    }
  }

  const chunks: Buffer[] = [
    Buffer.from(BSON.serialize({ h: { format: FORMAT, version: VERSION, savedAt: new Date() } })),
  ];
  for (const { header, documents } of captured) {
    chunks.push(Buffer.from(BSON.serialize({ c: header })));
    for (const doc of documents) {
      chunks.push(Buffer.from(BSON.serialize({ d: doc })));
      stats.documents += 1;
      // Serializing is synchronous: let the event loop breathe between slices.
      if (stats.documents % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const temporary = `${file}.${process.pid}.tmp`;
  const contents = Buffer.concat(chunks);
  stats.bytes = contents.length;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file).catch(async (error: unknown) => {
    await rm(temporary, { force: true });
    throw error;
  });
  return stats;
}

/** Loads a snapshot into an empty storage adapter. A missing file is an empty database. */
export async function readSnapshot(storage: IStorageAdapter, file: string): Promise<SnapshotStats | null> {
  let buffer: Buffer;
  try {
    buffer = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const stats: SnapshotStats = { databases: 0, collections: 0, documents: 0, bytes: buffer.length };
  const seenDatabases = new Set<string>();
  let current: CollectionHeader | null = null;
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (current && batch.length > 0) await storage.insertMany(current.db, current.collection, batch);
    batch = [];
  };

  let offset = 0;
  let first = true;
  while (offset < buffer.length) {
    if (offset + 4 > buffer.length) throw corrupt(file, offset, 'truncated length prefix');
    const length = buffer.readInt32LE(offset);
    if (length < 5 || offset + length > buffer.length)
      throw corrupt(file, offset, `bad document length ${length}`);
    const record = BSON.deserialize(buffer.subarray(offset, offset + length));
    offset += length;

    if (first) {
      const header = record.h as Header | undefined;
      if (header?.format !== FORMAT || header.version !== VERSION)
        throw corrupt(file, 0, 'not a Parley snapshot');
      first = false;
    } else if (record.c) {
      await flush();
      current = record.c as CollectionHeader;
      if (!seenDatabases.has(current.db)) {
        seenDatabases.add(current.db);
        stats.databases += 1;
      }
      stats.collections += 1;
      await storage.createCollection(current.db, current.collection);
      for (const { name, ...spec } of current.indexes) {
        if (name !== DEFAULT_ID_INDEX)
          await storage.saveIndex(current.db, current.collection, name, spec as never);
      }
    } else if (record.d && current) {
      batch.push(record.d as Record<string, unknown>);
      stats.documents += 1;
      if (batch.length >= 1000) await flush();
    } else {
      throw corrupt(file, offset - length, 'unexpected record');
    }
  }
  await flush();
  return stats;
}

function corrupt(file: string, offset: number, why: string): Error {
  return new Error(
    `Embedded database snapshot ${file} is damaged at byte ${offset} (${why}). Restore it from a backup or move it away.`,
  );
}
