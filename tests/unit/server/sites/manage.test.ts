import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels, type Models } from '../../../../server/db/models/index.js';
import { HttpError } from '../../../../server/errors.js';
import { createSite, findSiteByKey, findSiteByName, updateSite } from '../../../../server/sites/index.js';
import { startTestMongo, type TestMongo } from '../../../support/mongo.js';

let mongo: TestMongo;
let connection: Connection;
let models: Models;

beforeAll(async () => {
  mongo = await startTestMongo();
  connection = await mongo.connect();
  models = bindModels(connection);
});
afterAll(() => mongo.stop());

describe('sites', () => {
  it('creates a site with a fresh public key, normalized origins and the default look', async () => {
    const site = await createSite(models, {
      name: 'Shop',
      origins: ['https://Shop.Example/', 'https://shop.example', 'http://localhost:8080'],
    });
    expect(site.publicKey).toMatch(/^pk_[\w-]{24}$/);
    expect(site.origins).toEqual(['https://shop.example', 'http://localhost:8080']);
    expect(site.theme).toMatchObject({ position: 'right', launcherIcon: 'chat' });
    expect((await findSiteByKey(models, site.publicKey))?.name).toBe('Shop');
    expect((await findSiteByName(models, 'shop'))._id).toEqual(site._id);
  });

  it('gives every site its own key', async () => {
    const a = await createSite(models, { name: 'a', origins: ['https://a.example'] });
    const b = await createSite(models, { name: 'b', origins: ['https://b.example'] });
    expect(a.publicKey).not.toBe(b.publicKey);
  });

  it.each([
    ['no origins', { name: 'x1', origins: [] }, /at least one origin/],
    ['a bad origin', { name: 'x2', origins: ['shop.example'] }, /not an origin/],
    [
      'a bad color',
      { name: 'x3', origins: ['https://x.example'], theme: { primaryColor: 'red;}body{' } },
      /CSS color/,
    ],
    [
      'a bad font list',
      { name: 'x4', origins: ['https://x.example'], theme: { fontFamily: 'x;}*{' } },
      /font-family/,
    ],
    [
      'an unknown theme field',
      { name: 'x5', origins: ['https://x.example'], theme: { shadow: '1px' } },
      /shadow/,
    ],
    [
      'a threshold above 1',
      { name: 'x6', origins: ['https://x.example'], handoffThreshold: 2 },
      /handoffThreshold/,
    ],
    ['a bad locale', { name: 'x7', origins: ['https://x.example'], texts: { 'not a locale': {} } }, /locale/],
  ])('refuses %s with a 400 naming the problem, and stores nothing', async (_case, input, message) => {
    const attempt = createSite(models, input as never);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toBeInstanceOf(HttpError);
    expect(await models.Site.countDocuments({ name: input.name })).toBe(0);
  });

  it('refuses a second site with the same name', async () => {
    await createSite(models, { name: 'twice', origins: ['https://t.example'] });
    await expect(createSite(models, { name: 'Twice', origins: ['https://t.example'] })).rejects.toThrow(
      /exists/,
    );
  });

  it('changes origins, theme and threshold, keeping the key', async () => {
    const site = await createSite(models, { name: 'change-me', origins: ['https://c.example'] });
    const changed = await updateSite(models, 'change-me', {
      origins: ['https://new.example'],
      theme: { position: 'left' },
      handoffThreshold: 0.4,
    });
    expect(changed).toMatchObject({
      origins: ['https://new.example'],
      handoffThreshold: 0.4,
      publicKey: site.publicKey,
    });
    expect(changed.theme).toMatchObject({ position: 'left', launcherIcon: 'chat' });
  });
});
