import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { activeVersionId } from '../../server/registry/promote.js';
import { registerStarterVersion } from '../../server/registry/starter-version.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';

describe('the starter model as the first version', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  let root: string;

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    root = await mkdtemp(path.join(tmpdir(), 'parley-starter-version-'));
  });
  afterAll(async () => {
    await mongo.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('registers the starter as v1 and activates it once, also when two processes start together', async () => {
    const dir = path.join(root, 'starter');
    await writeTinyCheckpoint(dir, { architecture: 'llama' });
    const [first, second] = await Promise.all([
      registerStarterVersion(models, dir),
      registerStarterVersion(models, dir),
    ]);
    expect([first, second].filter((label) => label === 'v1')).toHaveLength(1);
    const versions = await models.ModelVersion.find({}).lean();
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({
      version: 'v1',
      status: 'active',
      artifactPath: dir,
      architecture: 'llama',
    });
    expect((await activeVersionId(models))?.equals(versions[0]!._id)).toBe(true);
    expect(await registerStarterVersion(models, dir)).toBeNull();
  });
});
