import { stat } from 'node:fs/promises';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../seed/demo-users.js';
import { demoSourceCollection, isSeeded, seedDemo } from '../../seed/index.js';
import { verifyPassword } from '../../server/auth/passwords.js';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { tempDataDir } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';

describe('seedDemo', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
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

  const seed = () => seedDemo({ connection, models, dataDir: dataDir.dir, limitPerFile: 10 });

  it('loads raw support messages and demo users on the first run', async () => {
    expect(await isSeeded(models)).toBe(false);
    const first = await seed();
    expect(first.source.conversations).toBe(40);
    expect(first.source.messages).toBeGreaterThan(40);
    expect(first.source.inserted).toBe(first.source.messages);
    expect(await demoSourceCollection(connection).countDocuments()).toBe(first.source.messages);
    expect(first.users.created.map((u) => u.email).sort()).toEqual(DEMO_USERS.map((u) => u.email).sort());
    expect(await isSeeded(models)).toBe(true);
  });

  it('adds nothing when re-run', async () => {
    const before = await demoSourceCollection(connection).countDocuments();
    const again = await seed();
    expect(again.source.inserted).toBe(0);
    expect(again.source.existing).toBe(again.source.messages);
    expect(again.users.created).toEqual([]);
    expect(await demoSourceCollection(connection).countDocuments()).toBe(before);
    expect(await models.User.countDocuments()).toBe(DEMO_USERS.length);
  });

  it('stores argon2id hashes that verify the generated passwords, never the passwords', async () => {
    const fresh = await mongo.connect();
    const freshModels = bindModels(fresh);
    const { users } = await seedDemo({
      connection: fresh,
      models: freshModels,
      dataDir: dataDir.dir,
      limitPerFile: 1,
    });
    for (const created of users.created) {
      const user = await freshModels.User.findOne({ email: created.email }).select('+passwordHash').lean();
      expect(user?.passwordHash).toMatch(/^\$argon2id\$/);
      expect(user?.passwordHash).not.toContain(created.password);
      expect(await verifyPassword(user!.passwordHash, created.password)).toBe(true);
      expect(await verifyPassword(user!.passwordHash, `${created.password}x`)).toBe(false);
    }
    expect(new Set(users.created.map((u) => u.password)).size).toBe(users.created.length);
    expect((await stat(users.credentialsFile)).mode & 0o777).toBe(0o600);
  });

  it('seeds a helpdesk shape that ingestion has to map (not Parley’s own)', async () => {
    const doc = await demoSourceCollection(connection).findOne({ message_id: { $regex: ':0$' } });
    expect(Object.keys(doc ?? {})).toEqual(
      expect.arrayContaining(['ticket_id', 'author_type', 'body', 'created_at', 'channel', 'customer_id']),
    );
    expect(doc?.created_at).toBeInstanceOf(Date);
    expect(['end_user', 'agent']).toContain(doc?.author_type);
  });
});
