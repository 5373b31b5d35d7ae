import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { deleteVersion } from '../../server/registry/delete.js';
import { promoteVersion, rollback } from '../../server/registry/promote.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

describe('deleting a model version', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  let dataDir: string;

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    dataDir = await mkdtemp(path.join(tmpdir(), 'parley-delete-'));
  });
  afterAll(async () => {
    await mongo.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('never deletes the active version or files still in use, and keeps rollback off deleted versions', async () => {
    const dir = async (name: string) => {
      const full = path.join(dataDir, 'models', name);
      await mkdir(full, { recursive: true });
      await writeFile(path.join(full, 'config.json'), '{}');
      return full;
    };
    const [base, one, two] = [await dir('starter'), await dir('v1'), await dir('v2')];
    await models.ModelVersion.create([
      { version: 'v1', artifactPath: one, baseModel: base },
      { version: 'v2', artifactPath: two, baseModel: base },
      { version: 'v3', artifactPath: one, baseModel: base }, // shares v1's directory
      { version: 'v4', artifactPath: base, baseModel: base },
    ]);
    const gate = { tolerances: { loss: 1, r1: 1 }, actor: { kind: 'cli' as const } };
    await promoteVersion(models, 'v1', gate);
    await promoteVersion(models, 'v2', gate); // active v2, rollback would go to v1
    const options = { actor: { kind: 'cli' as const }, dataDir, keepDirs: [base] };

    await expect(deleteVersion(models, 'v2', options)).rejects.toMatchObject({
      status: 409,
      id: 'version_active',
    });
    expect(await models.ModelVersion.exists({ version: 'v2' })).toBeTruthy();
    expect(await exists(two)).toBe(true);

    expect(await deleteVersion(models, 'v1', options)).toMatchObject({ version: 'v1', filesRemoved: false });
    expect(await exists(one)).toBe(true); // v3 still uses it
    await expect(rollback(models, { kind: 'cli' })).rejects.toMatchObject({ id: 'nothing_to_roll_back' });

    expect(await deleteVersion(models, 'v3', options)).toMatchObject({ filesRemoved: true });
    expect(await exists(one)).toBe(false);
    expect(await deleteVersion(models, 'v4', options)).toMatchObject({ filesRemoved: false });
    expect(await exists(base)).toBe(true); // the base model stays

    expect((await models.ModelVersion.find({}).lean()).map((v) => v.version)).toEqual(['v2']);
    const audited = await models.AuditEvent.find({ action: 'version.delete' }).lean();
    expect(audited.map((e) => (e.details as { version: string }).version).sort()).toEqual(['v1', 'v3', 'v4']);
  });
});
