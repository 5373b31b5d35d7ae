import { mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';
import { ModelHolder, type ModelLoader, type ModelTarget } from '../../../../server/serving/holder.js';
import { loadServedModel, replyWith, type ServedModel } from '../../../../server/serving/served-model.js';

let root: string;
const target = (label: string): ModelTarget => ({
  key: `version:${label}`,
  label,
  dir: path.join(root, label),
  versionId: null,
});

beforeAll(async () => {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  await tf.ready();
  root = await mkdtemp(path.join(tmpdir(), 'parley-serving-holder-'));
  for (const [i, label] of ['v1', 'v2', 'v3', 'corrupt'].entries()) {
    await writeTinyCheckpoint(path.join(root, label), {
      architecture: 'llama',
      contextLength: 64,
      seed: 10 + i,
    });
    await writeTinyTokenizer(path.join(root, label), { chatTemplate: CHATML_TEMPLATE });
  }
  // Cut the weights file short: the header promises more bytes than there are.
  await truncate(path.join(root, 'corrupt', 'model.safetensors'), 300);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Real models loaded in this thread; records what was loaded and disposed, in order. */
function recordingLoader() {
  const log: string[] = [];
  const loader: ModelLoader<ServedModel> = {
    async load(t) {
      log.push(`load ${t.label}`);
      return loadServedModel(t.dir);
    },
    dispose(served, t) {
      log.push(`dispose ${t.label}`);
      served.dispose();
    },
  };
  return { loader, log };
}

const hello = (served: ServedModel) =>
  replyWith(served, {
    turns: [{ role: 'customer', text: 'hello' }],
    systemPrompt: null,
    maxNewTokens: 4,
    sampling: { temperature: 0 },
  });

describe('ModelHolder', () => {
  it('is empty, then loading, then ready; nothing is served before the first load completes', async () => {
    const { loader } = recordingLoader();
    const holder = new ModelHolder(loader);
    expect(holder.status()).toMatchObject({ state: 'empty', serving: null, loading: null });
    const swapped = holder.swapTo(target('v1'));
    expect(holder.status()).toMatchObject({ state: 'loading', loading: { label: 'v1' } });
    expect(holder.acquire()).toBeNull();
    expect(await swapped).toMatchObject({ outcome: 'swapped', target: { label: 'v1' } });
    expect(holder.status()).toMatchObject({ state: 'ready', serving: { label: 'v1' }, loading: null });
    await holder.close();
  });

  it('lets a reply that started on the old version finish on it, and disposes the old one only after', async () => {
    const { loader, log } = recordingLoader();
    const swaps: string[] = [];
    const holder = new ModelHolder(loader, {
      onSwap: (from, to) => swaps.push(`${from?.label}->${to.label}`),
    });
    await holder.swapTo(target('v1'));
    const old = holder.acquire()!;
    expect(old.target.label).toBe('v1');

    expect(await holder.swapTo(target('v2'))).toMatchObject({ outcome: 'swapped' });
    expect(swaps).toEqual(['undefined->v1', 'v1->v2']);
    // New replies get v2 while the one in flight still holds a working v1.
    const next = holder.acquire()!;
    expect(next.target.label).toBe('v2');
    expect(log).toEqual(['load v1', 'load v2']);
    expect(holder.status().inUse).toEqual([
      { key: 'version:v1', label: 'v1', replies: 1 },
      { key: 'version:v2', label: 'v2', replies: 1 },
    ]);
    expect((await hello(old.value)).tokens).toBeGreaterThan(0);

    old.release();
    old.release(); // a second release changes nothing
    await holder.drained();
    expect(log).toEqual(['load v1', 'load v2', 'dispose v1']);
    expect((await hello(next.value)).tokens).toBeGreaterThan(0);
    next.release();
    expect(log).toEqual(['load v1', 'load v2', 'dispose v1']);
    await holder.close();
    expect(log).toEqual(['load v1', 'load v2', 'dispose v1', 'dispose v2']);
  });

  it('keeps the current version serving when a new one fails to load, and does not retry it unasked', async () => {
    const { loader, log } = recordingLoader();
    const failures: string[] = [];
    const holder = new ModelHolder(loader, { onLoadFailed: (f) => failures.push(f.target.label) });
    await holder.swapTo(target('v1'));

    const outcome = await holder.swapTo(target('corrupt'));
    expect(outcome).toMatchObject({ outcome: 'failed', target: { label: 'corrupt' } });
    expect(failures).toEqual(['corrupt']);
    const status = holder.status();
    expect(status).toMatchObject({ state: 'ready', serving: { label: 'v1' }, loading: null });
    expect(status.lastFailure).toMatchObject({ target: { label: 'corrupt' } });
    expect(status.lastFailure!.message).toMatch(/corrupt/);
    const lease = holder.acquire()!;
    expect(lease.target.label).toBe('v1');
    expect((await hello(lease.value)).tokens).toBeGreaterThan(0);
    lease.release();

    // A poller asking again does not reload the broken files; an explicit retry does.
    expect(await holder.swapTo(target('corrupt'))).toMatchObject({ outcome: 'failed' });
    expect(log.filter((l) => l === 'load corrupt')).toHaveLength(1);
    expect(await holder.swapTo(target('corrupt'), { retry: true })).toMatchObject({ outcome: 'failed' });
    expect(log.filter((l) => l === 'load corrupt')).toHaveLength(2);

    // A good version afterwards swaps in and clears the failure.
    expect(await holder.swapTo(target('v2'))).toMatchObject({ outcome: 'swapped' });
    expect(holder.status()).toMatchObject({ serving: { label: 'v2' }, lastFailure: null });
    await holder.close();
  });

  it('loads a failed version again once its retry time has come, counting the attempts', async () => {
    const { loader, log } = recordingLoader();
    const holder = new ModelHolder(loader, {}, { retryFailedAfterMs: 0 });
    await holder.swapTo(target('v1'));
    expect(await holder.swapTo(target('corrupt'))).toMatchObject({ outcome: 'failed' });
    expect(await holder.swapTo(target('corrupt'))).toMatchObject({ outcome: 'failed' });
    expect(log.filter((l) => l === 'load corrupt')).toHaveLength(2);
    expect(holder.status().lastFailure).toMatchObject({ attempts: 2 });
    expect(holder.status().serving?.label).toBe('v1');
    await holder.close();
  });

  it('reports a failed first load as failed, with nothing served', async () => {
    const { loader } = recordingLoader();
    const holder = new ModelHolder(loader);
    expect(await holder.swapTo(target('corrupt'))).toMatchObject({ outcome: 'failed' });
    expect(holder.status()).toMatchObject({ state: 'failed', serving: null });
    expect(holder.acquire()).toBeNull();
    await holder.close();
  });

  it('takes the latest target when asked again during a load: the superseded one is never served', async () => {
    const { loader, log } = recordingLoader();
    const swaps: string[] = [];
    const holder = new ModelHolder(loader, { onSwap: (_from, to) => swaps.push(to.label) });
    const first = holder.swapTo(target('v1'));
    const second = holder.swapTo(target('v2'));
    const third = holder.swapTo(target('v3'));
    expect(await first).toMatchObject({ outcome: 'superseded' });
    expect(await second).toMatchObject({ outcome: 'superseded' });
    expect(await third).toMatchObject({ outcome: 'swapped' });
    expect(swaps).toEqual(['v3']);
    await holder.drained();
    expect(log).toEqual(['load v1', 'dispose v1', 'load v3']);
    expect(holder.acquire()?.target.label).toBe('v3');
    await holder.close();
  });

  it('answers "unchanged" for the version already live, and a swap right after a finished one still runs', async () => {
    const { loader } = recordingLoader();
    const holder = new ModelHolder(loader);
    await holder.swapTo(target('v1'));
    expect(await holder.swapTo(target('v1'))).toMatchObject({ outcome: 'unchanged' });
    // Asked from the continuation of a finished swap, before anything else runs.
    const chained = await holder.swapTo(target('v2')).then(() => holder.swapTo(target('v3')));
    expect(chained).toMatchObject({ outcome: 'swapped', target: { label: 'v3' } });
    await holder.close();
  });

  it('disposes every version on close, even one a reply still holds, and serves nothing after', async () => {
    const { loader, log } = recordingLoader();
    const holder = new ModelHolder(loader);
    await holder.swapTo(target('v1'));
    const lease = holder.acquire()!;
    await holder.close();
    expect(log).toEqual(['load v1', 'dispose v1']);
    expect(holder.acquire()).toBeNull();
    lease.release();
    expect(log).toEqual(['load v1', 'dispose v1']);
  });
});
