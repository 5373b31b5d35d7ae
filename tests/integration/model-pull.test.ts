import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { writeTinyTokenizer } from '../../server/ml/testing/tiny-tokenizer.js';
import { runCli } from '../support/cli.js';
import { FakeHub } from '../unit/server/ml/hub/fake-hub.js';

let root: string;
let hub: FakeHub;
const source = () => path.join(root, 'source');

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-model-pull-'));
  await writeTinyCheckpoint(source(), { architecture: 'llama', dtype: 'BF16', seed: 9 });
  await writeTinyTokenizer(source());
  hub = await FakeHub.start();
  await hub.addRepo('tiny/llama', source(), { 'pytorch_model.bin': 'skipped' });
});
afterAll(async () => {
  await hub.stop();
  await rm(root, { recursive: true, force: true });
});

const dataDir = (name: string) => path.join(root, name);

describe('parley model pull', () => {
  it('downloads a model with --endpoint, prints the JSON summary, and model info loads it', async () => {
    hub.faults.dropAfter.set('model.safetensors', { bytes: 4096, times: 1 });
    const env = { PARLEY_DATA_DIR: dataDir('json'), TFJS_BACKEND: 'cpu' };
    const pulled = await runCli(['model', 'pull', 'tiny/llama', '--endpoint', hub.url, '--json'], env);
    expect(pulled.code, pulled.stderr).toBe(0);
    const summary = JSON.parse(pulled.stdout);
    const dir = path.join(dataDir('json'), 'models', 'tiny--llama');
    expect(summary).toMatchObject({
      repo: 'tiny/llama',
      revision: 'main',
      dir,
      architecture: 'llama',
      files: ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'],
    });
    for (const file of summary.files) {
      expect(await readFile(path.join(dir, file)), file).toEqual(await readFile(path.join(source(), file)));
    }
    expect(hub.log.some((r) => r.range === 'bytes=4096-')).toBe(true);

    const info = await runCli(['model', 'info', '--model', dir], env);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ architecture: 'llama', dtype: 'bfloat16', layers: 2 });
  });

  it('reads the hub from HF_ENDPOINT and prints the directory when run without --json', async () => {
    const env = { PARLEY_DATA_DIR: dataDir('plain'), HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_cli' };
    hub.log.length = 0;
    const pulled = await runCli(['model', 'pull', 'tiny/llama'], env);
    expect(pulled.code, pulled.stderr).toBe(0);
    const dir = path.join(dataDir('plain'), 'models', 'tiny--llama');
    expect(pulled.stdout).toBe(`${dir}\n`);
    expect(pulled.stderr).toMatch(/pulled tiny\/llama@main \(llama, 4 files, [\d.]+ kB\) into /);
    expect(pulled.stderr).not.toContain('hf_cli');
    const resolves = hub.log.filter((r) => r.path.includes('/resolve/'));
    expect(resolves.length).toBeGreaterThan(0);
    expect(resolves.every((r) => r.authorization === 'Bearer hf_cli')).toBe(true);

    const again = await runCli(['model', 'pull', 'tiny/llama'], env);
    expect(again.stderr).toContain(`tiny/llama is already in ${dir} (llama)`);
  });

  it.each([
    [['nobody/nothing'], /parley: model nobody\/nothing not found on http:\/\/127\.0\.0\.1:\d+/],
    [['tiny/llama', '--revision', 'v2'], /parley: tiny\/llama has no revision "v2"/],
    [['gpt2'], /parley: "gpt2" is not a Hugging Face model id: expected OWNER\/NAME/],
  ])('fails with a clear message for %j', async (args, message) => {
    const result = await runCli(['model', 'pull', ...args, '--endpoint', hub.url], {
      PARLEY_DATA_DIR: dataDir('errors'),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(await readdir(dataDir('errors')).catch(() => [])).toEqual([]);
  });

  it('rejects an --endpoint that is not an http(s) URL', async () => {
    const result = await runCli(['model', 'pull', 'tiny/llama', '--endpoint', 'huggingface.co'], {
      PARLEY_DATA_DIR: dataDir('errors'),
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('expected an http:// or https:// URL, got "huggingface.co"');
  });
});
