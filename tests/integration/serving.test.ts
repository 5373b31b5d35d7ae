import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deterministicId } from '../../server/db/ids.js';
import { bindModels, type Models } from '../../server/db/models/index.js';
import { startParley } from '../../server/index.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../server/ml/testing/tiny-tokenizer.js';
import { promoteVersion, rollback } from '../../server/registry/promote.js';
import { type ChatEngine, type ChatEngineOptions, startChatEngine } from '../../server/serving/engine.js';
import type { ChatTurn } from '../../server/serving/types.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';

let mongo: TestMongo;
let root: string;
const engines: ChatEngine[] = [];

const dirOf = (label: string) => path.join(root, label);
const CONVERSATION: ChatTurn[] = [
  { role: 'bot', text: 'hi' },
  { role: 'customer', text: 'hello my order is late where is the package' },
];
const gate = { tolerances: { loss: 0.02, r1: 0.02 }, actor: { kind: 'cli' as const } };

beforeAll(async () => {
  mongo = await startTestMongo();
  root = await mkdtemp(path.join(tmpdir(), 'parley-serving-'));
  for (const [i, label] of ['base', 'v1', 'v2', 'broken'].entries()) {
    await writeTinyCheckpoint(dirOf(label), { architecture: 'llama', contextLength: 64, seed: 40 + i });
    await writeTinyTokenizer(dirOf(label), { chatTemplate: CHATML_TEMPLATE });
  }
  // Weights that cannot load: the header is not JSON.
  await writeFile(
    path.join(dirOf('broken'), 'model.safetensors'),
    Buffer.from('\x10\0\0\0\0\0\0\0not a header'),
  );
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});
afterAll(async () => {
  await mongo?.stop();
  await rm(root, { recursive: true, force: true });
});

async function registry(): Promise<Models> {
  const models = bindModels(await mongo.connect());
  await models.ModelVersion.create(
    ['v1', 'v2', 'broken'].map((version) => ({
      _id: deterministicId('model-version', version),
      version,
      artifactPath: dirOf(version),
      baseModel: dirOf('base'),
    })),
  );
  return models;
}

async function options(models: Models): Promise<ChatEngineOptions> {
  return {
    models,
    baseModelDir: dirOf('base'),
    systemPrompt: 'you are helpful',
    workers: 1,
    backend: 'wasm',
    pollIntervalMs: 0,
  };
}

/** An engine closed after the test. */
async function engine(models: Models, overrides: Partial<ChatEngineOptions> = {}): Promise<ChatEngine> {
  const started = await startChatEngine({ ...(await options(models)), ...overrides });
  engines.push(started);
  return started;
}

describe('chat engine', () => {
  it('starts without any model, says so, and refuses replies with model_not_ready', async () => {
    const chat = await engine(await registry(), { baseModelDir: path.join(root, 'not-installed') });
    expect(chat.ready).toBe(false);
    const status = chat.status();
    expect(status).toMatchObject({ ready: false, state: 'no-model', version: null, loading: null });
    expect(status.reason).toMatch(/nothing is promoted and no base model is installed at .*not-installed/);
    await expect(chat.reply(CONVERSATION)).rejects.toMatchObject({ status: 503, id: 'model_not_ready' });
  });

  describe('with the base model and nothing promoted (one engine, two workers)', () => {
    let shared: ChatEngine | null = null;
    /** Started by the first test that needs it, so that test sees the first load in progress. */
    const baseEngine = async () => {
      shared ??= await startChatEngine({ ...(await options(await registry())), workers: 2 });
      return shared;
    };
    afterAll(async () => {
      await shared?.close();
    });

    it('is not ready while the first model loads, then serves the base model when nothing is promoted', async () => {
      const chat = await baseEngine();
      // startChatEngine returns before the model is loaded: the server can listen meanwhile.
      expect(chat.status()).toMatchObject({ ready: false, state: 'loading', loading: 'base' });
      expect(chat.status().reason).toMatch(/loading model base/);
      await expect(chat.reply(CONVERSATION)).rejects.toMatchObject({ id: 'model_not_ready' });
      expect(await chat.refresh()).toMatchObject({ outcome: 'swapped', target: { label: 'base' } });
      expect(chat.status()).toMatchObject({ ready: true, state: 'ready', version: 'base', reason: null });
      expect(chat.status().backend).toBe('wasm');
      // On CPU the llama base model is exported to ONNX once and served by ONNX Runtime.
      expect(chat.status().runtime).toBe('onnx');
    });

    it('streams a reply from a worker thread while the event loop keeps running timers between tokens', async () => {
      const chat = await baseEngine();
      await chat.refresh();
      const events: string[] = [];
      const deltas: string[] = [];
      const timer = setInterval(() => events.push('tick'), 1);
      let reply: Awaited<ReturnType<ChatEngine['reply']>>;
      try {
        reply = await chat.reply(CONVERSATION, {
          maxNewTokens: 24,
          sampling: { temperature: 1 },
          seed: 5,
          onToken: (delta) => {
            deltas.push(delta);
            events.push('token');
          },
        });
      } finally {
        clearInterval(timer);
      }
      expect(deltas.join('')).toBe(reply.text);
      expect(reply).toMatchObject({ modelVersion: 'base' });
      expect(reply.confidence).toBeGreaterThan(0);
      expect(reply.confidence).toBeLessThanOrEqual(1);
      // The fixture model with this seed writes a long enough reply to watch the loop between tokens.
      expect(deltas.length).toBeGreaterThanOrEqual(4);
      const first = events.indexOf('token');
      const last = events.lastIndexOf('token');
      expect(events.slice(first, last).includes('tick')).toBe(true);
    });

    it('answers several conversations at once, each reply whole and on the live version', async () => {
      const chat = await baseEngine();
      await chat.refresh();
      const streamed = Array.from({ length: 4 }, () => [] as string[]);
      const replies = await Promise.all(
        streamed.map((deltas, i) =>
          chat.reply(CONVERSATION, { seed: i, maxNewTokens: 12, onToken: (d) => deltas.push(d) }),
        ),
      );
      replies.forEach((reply, i) => {
        expect(streamed[i]!.join('')).toBe(reply.text);
        expect(reply.modelVersion).toBe('base');
      });
    });

    it.each([
      ['a conversation without text', [{ role: 'customer', text: '  ' }], {}, 'empty_conversation'],
      ['no turns at all', [], {}, 'empty_conversation'],
      ['maxNewTokens 0', CONVERSATION, { maxNewTokens: 0 }, 'bad_reply_options'],
      ['a fractional maxNewTokens', CONVERSATION, { maxNewTokens: 2.5 }, 'bad_reply_options'],
    ] as const)('refuses %s with a 400 error', async (_what, turns, replyOptions, id) => {
      const chat = await baseEngine();
      await chat.refresh();
      await expect(chat.reply([...turns], replyOptions)).rejects.toMatchObject({ status: 400, id });
    });

    it('stops a reply when its signal aborts', async () => {
      const chat = await baseEngine();
      await chat.refresh();
      const controller = new AbortController();
      const reply = await chat.reply(CONVERSATION, {
        signal: controller.signal,
        maxNewTokens: 40,
        sampling: { temperature: 0 },
        onToken: () => controller.abort(),
      });
      expect(['aborted', 'eos']).toContain(reply.finishReason);
      expect(reply.tokens).toBeLessThan(40);
    });
  });

  it('is wired into startParley: /healthz and /readyz turn ready once the base model is loaded, and running.chat replies', async () => {
    const data = await tempDataDir();
    const running = await startParley(
      testEnv(data.dir, {
        PARLEY_BASE_MODEL: dirOf('base'),
        PARLEY_SERVING_WORKERS: '1',
        TFJS_BACKEND: 'wasm',
        PARLEY_MODEL_POLL_MS: '0',
      }),
    );
    try {
      await running.chat.refresh();
      const health = await (await fetch(`${running.url}/healthz`)).json();
      expect(health).toMatchObject({ ok: true, model: null, ready: true, serving: { version: 'base' } });
      const ready = await fetch(`${running.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ ready: true, version: 'base', reason: null });
      expect((await running.chat.reply(CONVERSATION, { maxNewTokens: 4 })).modelVersion).toBe('base');
    } finally {
      await running.close();
      await data.cleanup();
    }
    expect(running.chat.status()).toMatchObject({ ready: false, reason: 'the server is shutting down' });
  });

  it('hot-swaps on promotion while replies stream: the reply in flight finishes on v1, later ones come from v2, nothing errors', async () => {
    const models = await registry();
    await promoteVersion(models, 'v1', gate);
    const chat = await engine(models);
    expect(await chat.refresh()).toMatchObject({ outcome: 'swapped', target: { label: 'v1' } });
    const swaps: string[] = [];
    let swapped = false;
    let atSwap: unknown = null;
    chat.onSwap(({ from, to }) => {
      swaps.push(`${from}->${to}`);
      swapped = true;
      atSwap = chat.status().replies;
    });

    await promoteVersion(models, 'v2', gate);
    const swapDone = chat.refresh();
    await expect.poll(() => chat.status().loading).toBe('v2');
    expect(chat.status()).toMatchObject({ ready: true, version: 'v1' });
    // Replies back to back: each next one starts in the same turn of the event loop as the last one
    // ends, so one of them is always in flight when the swap lands (it comes in a message of its own).
    const log: {
      version: string;
      startedAfter: boolean;
      endedAfter: boolean;
      text: string;
      streamed: string;
    }[] = [];
    while (!swapped) {
      const startedAfter = swapped;
      let streamed = '';
      const reply = await chat.reply(CONVERSATION, { maxNewTokens: 16, onToken: (d) => (streamed += d) });
      log.push({
        version: reply.modelVersion,
        startedAfter,
        endedAfter: swapped,
        text: reply.text,
        streamed,
      });
    }
    expect(await swapDone).toMatchObject({ outcome: 'swapped', target: { label: 'v2' } });
    expect(swaps).toEqual(['v1->v2']);
    const inFlight = log.filter((entry) => !entry.startedAfter && entry.endedAfter);
    expect(inFlight).toHaveLength(1);
    expect(inFlight[0]!.version).toBe('v1');
    // At the swap, v1 was draining that reply while v2 was live with none yet.
    expect(atSwap).toEqual([
      { version: 'v1', inProgress: 1, live: false },
      { version: 'v2', inProgress: 0, live: true },
    ]);
    for (const entry of log) expect(entry.streamed).toBe(entry.text);
    expect(log.every((entry) => entry.version === 'v1')).toBe(true);

    const next = await chat.reply(CONVERSATION, { maxNewTokens: 4 });
    expect(next.modelVersion).toBe('v2');
    expect(chat.status()).toMatchObject({ ready: true, version: 'v2', loading: null, lastError: null });
    // v1's workers are stopped once its last reply has finished.
    await expect.poll(() => chat.status().replies).toEqual([{ version: 'v2', inProgress: 0, live: true }]);

    await rollback(models, { kind: 'cli' });
    expect(await chat.refresh()).toMatchObject({ outcome: 'swapped', target: { label: 'v1' } });
    expect((await chat.reply(CONVERSATION, { maxNewTokens: 4 })).modelVersion).toBe('v1');
  });

  it('fails the replies still running when it closes, and answers none after', async () => {
    const chat = await engine(await registry());
    await chat.refresh();
    let closing: Promise<void> | null = null;
    const reply = chat.reply(CONVERSATION, {
      maxNewTokens: 24,
      sampling: { temperature: 1 },
      seed: 5,
      onToken: () => {
        closing ??= chat.close();
      },
    });
    await expect(reply).rejects.toThrow(/shutting down/);
    await closing;
    expect(chat.status()).toMatchObject({ ready: false, reason: 'the server is shutting down' });
    await expect(chat.reply(CONVERSATION)).rejects.toMatchObject({ id: 'model_not_ready' });
  });

  it('refuses a version whose files are corrupt: the old one keeps serving and the failure is reported and audited', async () => {
    const models = await registry();
    await promoteVersion(models, 'v1', gate);
    const chat = await engine(models);
    await chat.refresh();

    await promoteVersion(models, 'broken', gate);
    expect(await chat.refresh()).toMatchObject({ outcome: 'failed', target: { label: 'broken' } });
    const status = chat.status();
    expect(status).toMatchObject({ ready: true, state: 'ready', version: 'v1', loading: null });
    expect(status.lastError).toMatchObject({ version: 'broken' });
    expect(status.lastError!.message).toMatch(/model\.safetensors|header/i);
    expect((await chat.reply(CONVERSATION, { maxNewTokens: 4 })).modelVersion).toBe('v1');

    // The poller asking again does not reload broken files every few seconds.
    expect(await chat.refresh()).toMatchObject({ outcome: 'failed' });
    await expect.poll(() => models.AuditEvent.find({ action: 'version.load_failed' }).lean()).toHaveLength(1);
    const [event] = await models.AuditEvent.find({ action: 'version.load_failed' }).lean();
    expect(event).toMatchObject({
      actor: { kind: 'system' },
      target: { type: 'model_version', id: deterministicId('model-version', 'broken').toHexString() },
      details: { version: 'broken' },
    });

    // Fixed by promoting a good version: it swaps in and the error clears.
    await promoteVersion(models, 'v2', gate);
    expect(await chat.refresh()).toMatchObject({ outcome: 'swapped', target: { label: 'v2' } });
    expect(chat.status()).toMatchObject({ version: 'v2', lastError: null });
  });
});
