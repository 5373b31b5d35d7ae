import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { congoPlugins, MemoryStorageAdapter } from '../../../../../server/db/embedded/congodb.js';
import { readSnapshot, writeSnapshot } from '../../../../../server/db/embedded/snapshot.js';
import { tempDataDir } from '../../../../support/env.js';

const { ObjectId, Binary, Decimal128, Long } = congoPlugins.bson;

describe('embedded database snapshots', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDataDir()));
  afterEach(() => cleanup());

  it('round-trips BSON types that a JSON snapshot would turn into strings', async () => {
    const source = new MemoryStorageAdapter();
    const ref = new ObjectId();
    const at = new Date('2024-05-01T10:00:00.123Z');
    const original = {
      _id: new ObjectId(),
      at,
      ref,
      nested: { when: at, list: [ref, at] },
      bytes: new Binary(Buffer.from([1, 2, 3])),
      price: Decimal128.fromString('12.50'),
      big: Long.fromString('9007199254740993'),
      text: 'hello',
      nothing: null,
    };
    await source.insertOne('app', 'things', original);
    const file = path.join(dir, 'db.bson');
    await writeSnapshot(source, file);

    const restored = new MemoryStorageAdapter();
    const stats = await readSnapshot(restored, file);
    expect(stats).toMatchObject({ databases: 1, collections: 1, documents: 1 });
    const [found] = await restored.findAll('app', 'things');
    expect(found).toBeDefined();
    const doc = found!;
    expect(doc.at).toBeInstanceOf(Date);
    expect((doc.at as Date).toISOString()).toBe(at.toISOString());
    expect(doc.ref).toBeInstanceOf(ObjectId);
    expect((doc.ref as InstanceType<typeof ObjectId>).equals(ref)).toBe(true);
    expect((doc.nested as { when: unknown }).when).toBeInstanceOf(Date);
    expect(doc.bytes).toBeInstanceOf(Binary);
    expect(String(doc.price)).toBe('12.50');
    expect(String(doc.big)).toBe('9007199254740993');
    expect(doc.nothing).toBeNull();
  });

  it('keeps databases, collections (empty ones too) and secondary indexes', async () => {
    const source = new MemoryStorageAdapter();
    await source.insertMany('a', 'one', [{ n: 1 }, { n: 2 }]);
    await source.createCollection('b', 'empty');
    await source.saveIndex('a', 'one', 'n_1', { key: { n: 1 } });
    const file = path.join(dir, 'db.bson');
    await writeSnapshot(source, file);

    const restored = new MemoryStorageAdapter();
    await readSnapshot(restored, file);
    expect((await restored.listDatabases()).sort()).toEqual(['a', 'b']);
    expect(await restored.listCollections('b')).toEqual(['empty']);
    expect(await restored.count('a', 'one')).toBe(2);
    expect((await restored.getIndexes('a', 'one')).map((i) => i.name).sort()).toEqual(['_id_', 'n_1']);
  });

  it('is point-in-time: writes made while it serializes are not in it', async () => {
    const source = new MemoryStorageAdapter();
    await source.insertMany(
      'app',
      'a_conversations',
      Array.from({ length: 5000 }, (_, i) => ({ i })),
    );
    await source.insertOne('app', 'b_sources', { watermark: 1 });
    const file = path.join(dir, 'db.bson');
    const writing = writeSnapshot(source, file);
    // Runs during the pauses the serializer takes between slices of documents.
    setImmediate(() => void source.insertOne('app', 'b_sources', { watermark: 2 }));
    await writing;

    const restored = new MemoryStorageAdapter();
    await readSnapshot(restored, file);
    expect((await restored.findAll('app', 'b_sources')).map((d) => d.watermark)).toEqual([1]);
    expect(await source.count('app', 'b_sources')).toBe(2);
  });

  it('treats a missing snapshot as an empty database', async () => {
    expect(await readSnapshot(new MemoryStorageAdapter(), path.join(dir, 'absent.bson'))).toBeNull();
  });

  it('refuses a damaged snapshot with a message that names the file', async () => {
    const source = new MemoryStorageAdapter();
    await source.insertMany('a', 'one', [{ n: 1 }, { n: 2 }]);
    const file = path.join(dir, 'db.bson');
    const stats = await writeSnapshot(source, file);
    const { readFile } = await import('node:fs/promises');
    await writeFile(file, (await readFile(file)).subarray(0, stats.bytes - 7));
    await expect(readSnapshot(new MemoryStorageAdapter(), file)).rejects.toThrow(/db\.bson is damaged/);
  });

  it('refuses a file that is not a Parley snapshot', async () => {
    const file = path.join(dir, 'db.bson');
    await writeFile(file, JSON.stringify({ databases: {} }));
    await expect(readSnapshot(new MemoryStorageAdapter(), file)).rejects.toThrow(/damaged/);
  });

  it('replaces the previous snapshot atomically and leaves no temporary file', async () => {
    const source = new MemoryStorageAdapter();
    const file = path.join(dir, 'db.bson');
    await source.insertOne('a', 'one', { n: 1 });
    await writeSnapshot(source, file);
    await source.insertOne('a', 'one', { n: 2 });
    await writeSnapshot(source, file);
    expect(await readdir(dir)).toEqual(['db.bson']);
    const restored = new MemoryStorageAdapter();
    await readSnapshot(restored, file);
    expect(await restored.count('a', 'one')).toBe(2);
  });
});
