import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSafetensorsHeader, checkWeights } from '../../../../../server/ml/hub/verify.js';
import { writeTinyCheckpoint } from '../../../../../server/ml/testing/tiny-checkpoint.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'parley-hub-verify-'));
  await writeTinyCheckpoint(path.join(dir, 'sharded'), { architecture: 'gpt2', maxShardBytes: 20_000 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('checkSafetensorsHeader', () => {
  it('counts the tensors of a complete file without reading its data', async () => {
    const shard = path.join(dir, 'sharded', 'model-00001-of-00005.safetensors');
    expect(await checkSafetensorsHeader(shard)).toBeGreaterThan(0);
  });

  it('rejects a file shorter than its header says', async () => {
    const copy = path.join(dir, 'short.safetensors');
    await writeFile(copy, await readFile(path.join(dir, 'sharded', 'model-00001-of-00005.safetensors')));
    await truncate(copy, 5_000);
    await expect(checkSafetensorsHeader(copy)).rejects.toThrow(
      /the header accounts for \d+ bytes, the file has 5000/,
    );
  });

  it('rejects a file that is not safetensors', async () => {
    const html = path.join(dir, 'page.safetensors');
    await writeFile(html, '<html><body>Not found</body></html>');
    await expect(checkSafetensorsHeader(html)).rejects.toThrow(/not a safetensors file/);
  });
});

describe('checkWeights', () => {
  it('rejects an index that names a shard the repo lacks', async () => {
    await expect(
      checkWeights(path.join(dir, 'sharded'), [
        'model.safetensors.index.json',
        'model-00001-of-00005.safetensors',
      ]),
    ).rejects.toThrow(/names shards the repo lacks: model-00002-of-00005\.safetensors, /);
  });
});
