import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicId } from '../../server/db/ids.js';
import { bindModels } from '../../server/db/models/index.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../server/ml/testing/tiny-tokenizer.js';
import type { HealthReport } from '../../server/routes/health/route.js';
import { type CliResult, exitOf, runCli, startServe } from '../support/cli.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { cliEnvSharing } from '../support/pipeline.js';

let mongo: TestMongo;
let connection: Connection;
let root: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  mongo = await startTestMongo();
  connection = await mongo.connect();
  root = await mkdtemp(path.join(tmpdir(), 'parley-serving-processes-'));
  const models = bindModels(connection);
  for (const [i, version] of ['v1', 'v2'].entries()) {
    const dir = path.join(root, 'models', version);
    await writeTinyCheckpoint(dir, { architecture: 'llama', contextLength: 64, seed: 60 + i });
    await writeTinyTokenizer(dir, { chatTemplate: CHATML_TEMPLATE });
    await models.ModelVersion.create({
      _id: deterministicId('model-version', version),
      version,
      artifactPath: dir,
      baseModel: 'none',
    });
  }
});
afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map(exitOf));
  await mongo?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('several server processes on one database', () => {
  it('each swaps to the version promoted or rolled back by the CLI in another process', async () => {
    const env = (name: string) => ({
      ...cliEnvSharing(mongo, connection, path.join(root, name)),
      TFJS_BACKEND: 'wasm',
      PORT: '0',
      PARLEY_DEMO: 'false',
      PARLEY_BASE_MODEL: path.join(root, 'no-starter-model'),
      PARLEY_SERVING_WORKERS: '1',
      PARLEY_MODEL_POLL_MS: '200',
    });
    const outputs: (() => CliResult)[] = [];
    const servers = await Promise.all(
      ['server-a', 'server-b'].map(async (name) => {
        const started = await startServe(env(name));
        children.push(started.child);
        outputs.push(started.output);
        return started.url;
      }),
    );
    const health = async (url: string) => (await (await fetch(`${url}/healthz`)).json()) as HealthReport;
    const serving = async () => Promise.all(servers.map(async (url) => (await health(url)).serving.version));
    /** Waits for both servers to serve `version`; on failure shows what each reports and logged. */
    const bothServe = async (version: string) => {
      try {
        await expect.poll(serving, { timeout: 90_000, interval: 200 }).toEqual([version, version]);
      } catch (error) {
        const reports = await Promise.all(servers.map(health));
        const logs = outputs.map((output) => output().stdout);
        throw new Error(
          `${(error as Error).message}\n${JSON.stringify(reports, null, 2)}\n${logs.join('\n')}`,
        );
      }
    };

    for (const url of servers) {
      expect(await health(url)).toMatchObject({ ok: true, ready: false, serving: { state: 'no-model' } });
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
    }

    const cli = env('cli');
    expect((await runCli(['promote', 'v1'], cli)).code).toBe(0);
    await bothServe('v1');
    for (const url of servers) {
      expect(await health(url)).toMatchObject({ ready: true, model: 'v1', serving: { state: 'ready' } });
      expect(await (await fetch(`${url}/readyz`)).json()).toEqual({
        ready: true,
        version: 'v1',
        reason: null,
      });
    }

    expect((await runCli(['promote', 'v2'], cli)).code).toBe(0);
    await bothServe('v2');

    expect((await runCli(['rollback'], cli)).code).toBe(0);
    await bothServe('v1');
  }, 300_000);
});
