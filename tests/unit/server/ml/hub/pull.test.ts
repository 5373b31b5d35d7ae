import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type PullOptions, pullModel } from '../../../../../server/ml/hub/pull.js';
import { loadCheckpoint } from '../../../../../server/ml/safetensors.js';
import { writeTinyCheckpoint } from '../../../../../server/ml/testing/tiny-checkpoint.js';
import { writeTinyTokenizer } from '../../../../../server/ml/testing/tiny-tokenizer.js';
import { FakeHub } from './fake-hub.js';

let root: string;
let hub: FakeHub;
let dataDir: string;
const llama = () => path.join(root, 'llama');
const gpt2 = () => path.join(root, 'gpt2');
const WEIGHTS = 'model.safetensors';

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-hub-pull-'));
  await writeTinyCheckpoint(llama(), { architecture: 'llama', dtype: 'BF16', seed: 3 });
  await writeTinyTokenizer(llama());
  await writeFile(path.join(llama(), 'generation_config.json'), '{"eos_token_id": 2}\n');
  await writeTinyCheckpoint(gpt2(), { architecture: 'gpt2', seed: 4, maxShardBytes: 20_000 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

beforeEach(async () => {
  hub = await FakeHub.start();
  dataDir = await mkdtemp(path.join(root, 'data-'));
  await hub.addRepo('tiny/llama', llama(), {
    'README.md': '# tiny llama\n',
    'pytorch_model.bin': 'not needed',
    'onnx/model.onnx': 'not needed',
    'consolidated.safetensors': 'the same weights in another layout',
  });
  await hub.addRepo('tiny/gpt2', gpt2(), {
    'consolidated.safetensors': 'the same weights in another layout',
  });
});
afterEach(() => hub.stop());

const pull = (repo: string, extra: Partial<PullOptions> = {}) =>
  pullModel({ repo, endpoint: hub.url, dataDir, ...extra });

async function expectSameFiles(dir: string, source: string) {
  for (const file of await readdir(dir)) {
    expect(await readFile(path.join(dir, file)), file).toEqual(await readFile(path.join(source, file)));
  }
}

const modelsDir = () => readdir(path.join(dataDir, 'models'));

describe('pullModel', () => {
  it('downloads configs, tokenizer and weights only, follows the LFS redirect to the CDN and installs a loadable model', async () => {
    const result = await pull('tiny/llama');
    const dir = path.join(dataDir, 'models', 'tiny--llama');
    expect(result).toMatchObject({
      repo: 'tiny/llama',
      revision: 'main',
      commit: hub.repos.get('tiny/llama')!.sha,
      dir,
      architecture: 'llama',
    });
    expect(result.files).toEqual([
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      WEIGHTS,
    ]);
    expect((await readdir(dir)).sort()).toEqual([...result.files].sort());
    await expectSameFiles(dir, llama());
    const bytes = (await Promise.all(result.files.map((f) => stat(path.join(llama(), f))))).reduce(
      (sum, s) => sum + s.size,
      0,
    );
    expect(result.bytes).toBe(bytes);
    expect(result.downloaded).toBe(bytes);
    expect(await modelsDir()).toEqual(['tiny--llama']);
    expect((await loadCheckpoint(dir)).has('model.embed_tokens.weight')).toBe(true);
    expect(hub.log.filter((r) => r.server === 'cdn').map((r) => r.path)).toEqual([
      `/cdn/tiny/llama/${result.commit}/${WEIGHTS}`,
    ]);
    expect(hub.log.some((r) => /pytorch_model|onnx|README|consolidated/.test(r.path))).toBe(false);
    // Sizes and ranges are of the stored file: no transparent compression.
    const fetches = hub.log.filter((r) => r.server === 'cdn' || r.path.includes('/resolve/'));
    expect(fetches.every((r) => r.acceptEncoding === 'identity')).toBe(true);
  });

  it('downloads every shard of a sharded checkpoint with its index', async () => {
    const result = await pull('tiny/gpt2', { revision: hub.repos.get('tiny/gpt2')!.sha });
    expect(result.files.filter((f) => f.endsWith('.safetensors'))).toHaveLength(5);
    expect(result.files).not.toContain('consolidated.safetensors');
    expect(hub.log.some((r) => r.path.includes('consolidated'))).toBe(false);
    expect(path.basename(result.dir)).toBe(`tiny--gpt2@${result.commit}`);
    await expectSameFiles(result.dir, gpt2());
    expect((await loadCheckpoint(result.dir)).names().length).toBeGreaterThan(0);
  });

  it('resumes a file whose connection dropped with a Range request and ends with identical bytes', async () => {
    hub.faults.dropAfter.set(WEIGHTS, { bytes: 10_000, times: 1 });
    const progress: number[] = [];
    const result = await pull('tiny/llama', { onProgress: (p) => progress.push(p.done) });
    await expectSameFiles(result.dir, llama());
    const cdn = hub.log.filter((r) => r.server === 'cdn');
    expect(cdn.map((r) => r.range)).toEqual([undefined, 'bytes=10000-']);
    expect(result.downloaded).toBe(result.bytes);
    expect(progress.at(-1)).toBe(result.bytes);
  });

  it('treats a connection that goes silent as dropped and resumes it', async () => {
    hub.faults.stallAfter.set(WEIGHTS, { bytes: 10_000, times: 1 });
    const result = await pull('tiny/llama', { idleTimeoutMs: 300 });
    await expectSameFiles(result.dir, llama());
    expect(hub.log.filter((r) => r.server === 'cdn').map((r) => r.range)).toEqual([
      undefined,
      'bytes=10000-',
    ]);
  });

  it('keeps a dropped download for the next run, which resumes it and skips the complete files', async () => {
    hub.faults.dropAfter.set(WEIGHTS, { bytes: 10_000, times: 1 });
    await expect(pull('tiny/llama', { retries: 0 })).rejects.toThrow(
      /connection lost after 10000 of \d+ bytes.*run the command again to resume/,
    );
    expect(await modelsDir()).toEqual(['.tiny--llama.partial']);
    const staging = path.join(dataDir, 'models', '.tiny--llama.partial');
    expect((await stat(path.join(staging, `${WEIGHTS}.part`))).size).toBe(10_000);

    hub.log.length = 0;
    const result = await pull('tiny/llama');
    await expectSameFiles(result.dir, llama());
    expect(await modelsDir()).toEqual(['tiny--llama']);
    const fetched = hub.log.filter((r) => r.path.includes('/resolve/') || r.server === 'cdn');
    expect(fetched.map((r) => [path.basename(r.path), r.range])).toEqual([
      [WEIGHTS, 'bytes=10000-'],
      [WEIGHTS, 'bytes=10000-'],
    ]);
    expect(result.downloaded).toBe((await stat(path.join(llama(), WEIGHTS))).size - 10_000);
  });

  it('starts over when the staged part is already as long as the file (416)', async () => {
    const staging = path.join(dataDir, 'models', '.tiny--llama.partial');
    const weights = await readFile(path.join(llama(), WEIGHTS));
    await mkdir(staging, { recursive: true });
    await writeFile(path.join(staging, '.commit'), `${hub.repos.get('tiny/llama')!.sha}\n`);
    await writeFile(path.join(staging, `${WEIGHTS}.part`), weights);
    const result = await pull('tiny/llama');
    await expectSameFiles(result.dir, llama());
    expect(hub.log.filter((r) => r.server === 'cdn').map((r) => r.range)).toEqual([
      `bytes=${weights.length}-`,
      undefined,
    ]);
  });

  it('starts over when the server ignores the Range request', async () => {
    hub.faults.dropAfter.set(WEIGHTS, { bytes: 10_000, times: 1 });
    hub.faults.ignoreRange = true;
    const result = await pull('tiny/llama');
    await expectSameFiles(result.dir, llama());
  });

  it('rejects a body whose sha256 differs from the hub ETag and installs nothing', async () => {
    hub.faults.corrupt.add(WEIGHTS);
    await expect(pull('tiny/llama')).rejects.toThrow(
      /model\.safetensors: sha256 [0-9a-f]{64} does not match the hub's [0-9a-f]{64}; discarded/,
    );
    expect(await modelsDir()).toEqual(['.tiny--llama.partial']);
    const staging = await readdir(path.join(dataDir, 'models', '.tiny--llama.partial'));
    expect(staging).not.toContain(WEIGHTS);
    expect(staging).not.toContain(`${WEIGHTS}.part`);
  });

  it('names a repo the hub does not know', async () => {
    await expect(pull('nobody/nothing')).rejects.toThrow(
      `model nobody/nothing not found on ${hub.url} (if it is private, set HF_TOKEN)`,
    );
    await expect(pull('tiny/llama', { revision: 'v9' })).rejects.toThrow('tiny/llama has no revision "v9"');
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('refuses a repo without safetensors weights before downloading anything', async () => {
    await hub.addRepo('tiny/pt', undefined, {
      'config.json': await readFile(path.join(llama(), 'config.json')),
      'pytorch_model.bin': 'weights',
    });
    await expect(pull('tiny/pt')).rejects.toThrow(
      /tiny\/pt has no safetensors weights in Hugging Face layout .* \(it has pytorch_model\.bin\)/,
    );
    expect(hub.log.some((r) => r.path.includes('/resolve/'))).toBe(false);
  });

  it('refuses an architecture Parley cannot load before fetching its weights', async () => {
    const config = (await readFile(path.join(llama(), 'config.json'), 'utf-8')).replace('"llama"', '"mamba"');
    await hub.addRepo('tiny/mamba', undefined, {
      'config.json': config,
      [WEIGHTS]: await readFile(path.join(llama(), WEIGHTS)),
    });
    await expect(pull('tiny/mamba')).rejects.toThrow(/tiny\/mamba is not a model Parley can load/);
    expect(hub.log.some((r) => r.path.endsWith(WEIGHTS))).toBe(false);
  });

  it('does not download an installed model again', async () => {
    const first = await pull('tiny/llama');
    hub.log.length = 0;
    const second = await pull('tiny/llama');
    expect(hub.log).toEqual([]);
    expect(second).toMatchObject({
      dir: first.dir,
      bytes: first.bytes,
      downloaded: 0,
      architecture: 'llama',
    });
    expect(second.files).toEqual([...first.files].sort());
  });

  it('sends HF_TOKEN to the hub but not to the CDN it redirects to', async () => {
    await pull('tiny/llama', { token: 'hf_secret' });
    const byServer = (server: string) =>
      hub.log.filter((r) => r.server === server).map((r) => r.authorization);
    expect(new Set(byServer('hub'))).toEqual(new Set(['Bearer hf_secret']));
    expect(byServer('cdn')).toEqual([undefined]);
  });

  it('refuses to pull while another live process holds the lock, and takes over a dead one', async () => {
    const lock = path.join(dataDir, 'models', '.tiny--llama.partial.lock');
    await mkdir(path.dirname(lock), { recursive: true });
    await writeFile(lock, String(process.pid));
    await expect(pull('tiny/llama')).rejects.toThrow(
      `another pull of tiny/llama is running (pid ${process.pid}); if it is not, remove ${lock}`,
    );
    await writeFile(lock, '2147483646');
    const result = await pull('tiny/llama');
    await expectSameFiles(result.dir, llama());
    expect(await modelsDir()).toEqual(['tiny--llama']);
  });

  it('discards staged files of another commit when the branch has moved', async () => {
    hub.faults.dropAfter.set(WEIGHTS, { bytes: 10_000, times: 1 });
    await expect(pull('tiny/llama', { retries: 0 })).rejects.toThrow(/connection lost/);
    await hub.addRepo('tiny/llama', gpt2());
    hub.log.length = 0;
    const result = await pull('tiny/llama');
    expect(result.architecture).toBe('gpt2');
    await expectSameFiles(result.dir, gpt2());
    expect(hub.log.every((r) => r.range === undefined)).toBe(true);
  });
});
