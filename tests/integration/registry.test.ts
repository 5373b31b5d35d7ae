import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { activeVersionLabel } from '../../server/registry/active-version.js';
import { GateError, promoteVersion, rollback } from '../../server/registry/promote.js';
import { runCli } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { cliEnvSharing } from '../support/pipeline.js';

describe('model registry: promote, gate, rollback', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  const options = { tolerances: { loss: 0.02, r1: 0.02 }, actor: { kind: 'cli' as const } };

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    await models.ModelVersion.create([
      { version: 'v1', artifactPath: '/m/v1', baseModel: 'base', metrics: { validationLoss: 2.0, r1: 0.4 } },
      { version: 'v2', artifactPath: '/m/v2', baseModel: 'base', metrics: { validationLoss: 1.8, r1: 0.5 } },
      { version: 'v3', artifactPath: '/m/v3', baseModel: 'base', metrics: { validationLoss: 2.5, r1: 0.3 } },
      { version: 'v4', artifactPath: '/m/v4', baseModel: 'base', status: 'failed' },
    ]);
  });
  afterAll(() => mongo.stop());

  const statuses = async () =>
    Object.fromEntries((await models.ModelVersion.find({}).lean()).map((v) => [v.version, v.status]));

  it('promotes the first version and then a better one, keeping exactly one active', async () => {
    expect(await activeVersionLabel(models)).toBeNull();
    expect(await promoteVersion(models, 'v1', options)).toEqual({
      version: 'v1',
      previous: null,
      overridden: false,
    });
    expect(await promoteVersion(models, 'v2', options)).toEqual({
      version: 'v2',
      previous: 'v1',
      overridden: false,
    });
    expect(await activeVersionLabel(models)).toBe('v2');
    expect(await statuses()).toMatchObject({ v1: 'retired', v2: 'active', v3: 'candidate' });
  });

  it('blocks a worse version at the gate, and lets an override through with the reason audited', async () => {
    const blocked = await promoteVersion(models, 'v3', options).catch((error: unknown) => error);
    expect(blocked).toBeInstanceOf(GateError);
    expect((blocked as GateError).failures).toHaveLength(2);
    expect(await activeVersionLabel(models)).toBe('v2');

    const result = await promoteVersion(models, 'v3', {
      ...options,
      override: 'hotfix for the holiday greeting',
    });
    expect(result).toMatchObject({ version: 'v3', overridden: true });
    const audit = await models.AuditEvent.findOne({ action: 'version.promote.override' }).lean();
    expect(audit?.details).toMatchObject({
      version: 'v3',
      previous: 'v2',
      override: 'hotfix for the holiday greeting',
    });
  });

  it('rolls back to the previously active version, one step at a time', async () => {
    expect(await rollback(models, { kind: 'cli' })).toEqual({ version: 'v2', from: 'v3' });
    expect(await activeVersionLabel(models)).toBe('v2');
    expect(await rollback(models, { kind: 'cli' })).toEqual({ version: 'v1', from: 'v2' });
    expect(await statuses()).toMatchObject({ v1: 'active', v2: 'retired', v3: 'retired' });
    await expect(rollback(models, { kind: 'cli' })).rejects.toThrow(/no earlier version/);
    expect(await models.AuditEvent.countDocuments({ action: 'version.rollback' })).toBe(2);
  });

  it.each([
    ['an unknown version', 'v9', /No model version v9/],
    ['a failed version', 'v4', /failed and cannot be promoted/],
    ['the active version', 'v1', /already active/],
  ])('refuses to promote %s', async (_what, version, message) => {
    await expect(promoteVersion(models, version, options)).rejects.toThrow(message);
  });

  it('lists, promotes and rolls back from the CLI', async () => {
    const data = await tempDataDir();
    const env = cliEnvSharing(mongo, connection, data.dir);
    try {
      const listed = JSON.parse((await runCli(['versions', '--json'], env)).stdout);
      expect(listed.map((v: { version: string }) => v.version).sort()).toEqual(['v1', 'v2', 'v3', 'v4']);
      const blocked = await runCli(['promote', 'v3'], env);
      expect(blocked.code).not.toBe(0);
      expect(blocked.stderr).toMatch(/Promotion blocked by the gate/);
      expect(JSON.parse((await runCli(['promote', 'v2'], env)).stdout)).toMatchObject({
        version: 'v2',
        previous: 'v1',
      });
      expect(JSON.parse((await runCli(['rollback'], env)).stdout)).toEqual({ version: 'v1', from: 'v2' });
    } finally {
      await data.cleanup();
    }
  });
});
