import type { SessionData } from 'express-session';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoSessionStore, sessionObjectId } from '../../server/auth/session-store.js';
import { bindModels, type Models } from '../../server/db/models/index.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';

const call = <T>(fn: (cb: (error?: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) =>
    fn((error, value) => (error ? reject(error) : resolve(value))),
  );

const sessionData = (expires: Date, extra: Record<string, unknown> = {}) =>
  ({ cookie: { originalMaxAge: 1000, expires }, ...extra }) as unknown as SessionData;

describe('MongoSessionStore', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  let store: MongoSessionStore;

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    store = new MongoSessionStore(models);
  });
  afterAll(async () => {
    store.close();
    await mongo.stop();
  });

  const inAnHour = () => new Date(Date.now() + 3600_000);

  it('stores, reads and destroys a session', async () => {
    await call((cb) => store.set('sid-1', sessionData(inAnHour(), { passport: { user: 'u1' } }), cb));
    expect(await call<SessionData | null>((cb) => store.get('sid-1', cb))).toMatchObject({
      passport: { user: 'u1' },
    });
    await call((cb) => store.destroy('sid-1', cb));
    expect(await call<SessionData | null>((cb) => store.get('sid-1', cb))).toBeNull();
  });

  it('never writes the session id itself to the database', async () => {
    await call((cb) => store.set('very-secret-sid', sessionData(inAnHour()), cb));
    const raw = await connection.db!.collection('sessions').find({}).toArray();
    expect(JSON.stringify(raw)).not.toContain('very-secret-sid');
    expect(raw.some((doc) => doc._id.equals(sessionObjectId('very-secret-sid')))).toBe(true);
  });

  it('does not return an expired session, and prunes it', async () => {
    await call((cb) => store.set('old', sessionData(new Date(Date.now() - 1000)), cb));
    expect(await call<SessionData | null>((cb) => store.get('old', cb))).toBeNull();
    expect(await store.prune()).toBeGreaterThanOrEqual(1);
    expect(await models.Session.exists({ _id: sessionObjectId('old') })).toBeNull();
  });

  it('extends a session on touch', async () => {
    await call((cb) => store.set('t', sessionData(new Date(Date.now() + 1000)), cb));
    const later = new Date(Date.now() + 7200_000);
    await call((cb) => store.touch('t', sessionData(later), cb));
    const doc = await models.Session.findById(sessionObjectId('t')).lean();
    expect(doc?.expiresAt.getTime()).toBe(later.getTime());
  });
});
