import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactRef, openArtifactStore, resolveArtifact } from '../../../../server/artifacts/store.js';
import { tempDataDir } from '../../../support/env.js';

describe('the shared-directory artifact store', () => {
  let root: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    root = await tempDataDir();
    await mkdir(path.join(root.dir, 'datasets', 'd1'), { recursive: true });
  });
  afterAll(() => root.cleanup());

  it('names paths inside it by keys and resolves them back; paths outside stay as they are', async () => {
    const store = openArtifactStore(root.dir);
    expect(store.keyOf(path.join(root.dir, 'datasets', 'd1'))).toBe('datasets/d1');
    expect(store.keyOf('/elsewhere/base')).toBeNull();
    expect(artifactRef(store, path.join(root.dir, 'datasets', 'd1'))).toEqual({ key: 'datasets/d1' });
    expect(artifactRef(store, '/elsewhere/base')).toEqual({ path: '/elsewhere/base' });
    expect(await resolveArtifact(store, { key: 'datasets/d1' })).toBe(path.join(root.dir, 'datasets', 'd1'));
    expect(store.workDir('models/v2')).toBe(path.join(root.dir, 'models', 'v2'));
  });

  it.each([
    [
      'a missing artifact',
      (store: ReturnType<typeof openArtifactStore>) => store.fetch('datasets/nope'),
      /is not in the shared directory/,
    ],
    [
      'a key that climbs out',
      (store: ReturnType<typeof openArtifactStore>) => store.fetch('../etc'),
      /points outside the store/,
    ],
  ])('refuses %s', async (_, call, message) => {
    await expect(call(openArtifactStore(root.dir))).rejects.toThrow(message);
  });

  it('refuses an unknown store URL and lists the known stores', () => {
    expect(() => openArtifactStore('s3://bucket/parley')).toThrow(
      'Unknown artifact store "s3://"; known: a directory path (shared directory).',
    );
  });
});
