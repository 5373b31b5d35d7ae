import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../../../server/ml/architectures/registry.js';
import {
  defaultBaseModelDir,
  ensureStarterModel,
  installStarterModel,
  packStarterModel,
} from '../../../../server/ml/starter.js';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer } from '../../../../server/ml/tokenizer.js';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'parley-starter-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('starter model packaging', () => {
  it('packs a model compressed and installs it back into a loadable model directory, once', async () => {
    const build = path.join(root, 'build');
    await writeTinyCheckpoint(build, { architecture: 'llama', seed: 4 });
    await writeTinyTokenizer(build, { chatTemplate: CHATML_TEMPLATE });
    const packageDir = path.join(root, 'package');
    await packStarterModel(build, packageDir);
    expect((await readdir(packageDir)).sort()).toEqual([
      'config.json',
      'model.safetensors.br',
      'tokenizer.json.br',
      'tokenizer_config.json',
    ]);

    const target = path.join(root, 'data', 'models', 'starter');
    expect(await installStarterModel(target, packageDir)).toBe('installed');
    expect(await installStarterModel(target, packageDir)).toBe('present');

    const ids = [3, 9, 17, 4, 30];
    const { model: original } = await loadModel(build);
    const { model: installed } = await loadModel(target);
    const [a, b] = [original.forward(ids), installed.forward(ids)];
    // Shipped as float16: the same network to float16 precision.
    const expected = Array.from(a.dataSync());
    for (const [i, v] of Array.from(b.dataSync()).entries()) expect(v).toBeCloseTo(expected[i]!, 1);
    tf.dispose([a, b]);
    original.dispose();
    installed.dispose();
    const tokenizer = await ChatTokenizer.load(target);
    expect(tokenizer.hasChatTemplate).toBe(true);
  });

  it('replaces a broken leftover (no config.json) and leaves a custom PARLEY_BASE_MODEL alone', async () => {
    const dataDir = path.join(root, 'other');
    const target = defaultBaseModelDir(dataDir);
    await mkdir(target, { recursive: true });
    await writeFile(path.join(target, 'half-written'), 'x');
    expect(await ensureStarterModel({ PARLEY_DATA_DIR: dataDir, PARLEY_BASE_MODEL: target })).toBe(
      'installed',
    );
    expect(await readdir(target)).not.toContain('half-written');
    expect(
      await ensureStarterModel({ PARLEY_DATA_DIR: dataDir, PARLEY_BASE_MODEL: path.join(root, 'mine') }),
    ).toBe('custom');
  });
});
