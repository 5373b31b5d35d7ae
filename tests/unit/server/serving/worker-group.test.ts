import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyCheckpoint } from '../../../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../../../server/ml/testing/tiny-tokenizer.js';
import { ModelLoadError } from '../../../../server/serving/served-model.js';
import type { ReplyRequest } from '../../../../server/serving/types.js';
import { ServingError, WorkerGroup } from '../../../../server/serving/worker-group.js';

let root: string;
const request: ReplyRequest = {
  turns: [{ role: 'customer', text: 'hello my order is late' }],
  systemPrompt: 'you are helpful',
  maxNewTokens: 6,
  sampling: { temperature: 0 },
};

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-worker-group-'));
  await writeTinyCheckpoint(path.join(root, 'model'), { architecture: 'llama', contextLength: 64, seed: 80 });
  await writeTinyTokenizer(path.join(root, 'model'), { chatTemplate: CHATML_TEMPLATE });
  await writeTinyTokenizer(path.join(root, 'no-weights'), { chatTemplate: CHATML_TEMPLATE });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('WorkerGroup', () => {
  it('replaces a worker that dies while the others keep answering, with the same replies', async () => {
    const exits: string[] = [];
    let replaced!: () => void;
    const replacedOnce = new Promise<void>((resolve) => {
      replaced = resolve;
    });
    const group = await WorkerGroup.start({
      dir: path.join(root, 'model'),
      size: 2,
      backend: 'wasm',
      onWorkerExit: (error) => exits.push(error.message),
      onWorkerReplaced: () => replaced(),
    });
    try {
      expect(group.size).toBe(2);
      const before = await group.generate(request);
      const [dying] = group.workers;
      await dying!.terminate();
      expect(exits).toEqual([expect.stringMatching(/exited with code/)]);
      expect(group.size).toBe(1);
      // Greedy: the surviving worker gives the same reply.
      expect(await group.generate(request)).toEqual(before);

      await replacedOnce;
      expect(group.size).toBe(2);
      expect(group.workers).not.toContain(dying);
      const answers = await Promise.all([group.generate(request), group.generate(request)]);
      expect(answers).toEqual([before, before]);
    } finally {
      await group.close();
    }
    await expect(group.generate(request)).rejects.toBeInstanceOf(ServingError);
  });

  it('closes while ONNX Runtime runs a step for a reply, without taking the process down', async () => {
    // Terminating the thread mid-step used to abort this whole process as the step completed
    // ("terminate called after throwing an instance of 'Napi::Error'"), in the first round or two.
    for (let round = 0; round < 4; round += 1) {
      const group = await WorkerGroup.start({
        dir: path.join(root, 'model'),
        size: 1,
        backend: 'wasm',
        runtime: 'onnx',
      });
      expect(group.runtime).toBe('onnx');
      let closing: Promise<void> | null = null;
      const reply = group.generate(
        { ...request, maxNewTokens: 24, sampling: { temperature: 1 }, seed: round },
        {
          onDelta: () => {
            closing ??= group.close();
          },
        },
      );
      await expect(reply).rejects.toThrow(/shutting down/);
      expect(closing).not.toBeNull();
      await closing;
      await expect(group.generate(request)).rejects.toBeInstanceOf(ServingError);
    }
  });

  it('refuses to start when a worker cannot load the version, with the reason', async () => {
    const started = WorkerGroup.start({ dir: path.join(root, 'no-weights'), size: 1, backend: 'wasm' });
    await expect(started).rejects.toBeInstanceOf(ModelLoadError);
    await expect(started).rejects.toThrow(/cannot load the model/);
  });
});
