import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataset } from '../../server/datasets/build.js';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { rankingCasesFromDataset } from '../../server/evaluate/build-cases.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { runCli } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { cliEnvSharing, ingestShop, tinyBaseModel } from '../support/pipeline.js';
import { rawTicket } from '../support/support-logs.js';

const replies = [
  'sorry for the delay',
  'it will arrive tomorrow',
  'your refund is sent',
  'please reset your password',
  'an email was sent to your inbox',
  'what is your order number',
  'you are welcome',
  'can i help with your account',
  'thanks for your help',
  'your package is late',
  'hello how can i help',
  'ok bye',
];

describe('ranking cases and parley eval', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  let data: { dir: string; cleanup: () => Promise<void> };
  let datasetId: string;
  let base: string;

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    data = await tempDataDir();
    base = await tinyBaseModel(data.dir);
    await ingestShop(
      mongo,
      { models, connection },
      Array.from({ length: 60 }, (_, i) =>
        rawTicket(
          `T${i}`,
          ['hello', replies[i % replies.length]!, 'thanks', replies[(i + 5) % replies.length]!],
          new Date(Date.UTC(2024, 0, 1, i)),
        ),
      ).flat(),
    );
    const dataset = await buildDataset(
      { models, dataDir: data.dir },
      { sources: ['shop'] },
      {
        tokenizer: await ChatTokenizer.load(base),
        baseModel: base,
        contextLength: 64,
        systemPrompt: null,
        validationPercent: 50,
      },
    );
    datasetId = dataset._id.toHexString();
  });
  afterAll(async () => {
    await mongo.stop();
    await data.cleanup();
  });

  it('builds cases from the validation split: the true reply among 9 others, seeded', async () => {
    const cases = await rankingCasesFromDataset(models, datasetId, { count: 10, seed: 3 });
    expect(cases.length).toBe(10);
    for (const c of cases) {
      expect(c.candidates).toHaveLength(10);
      expect(new Set(c.candidates).size).toBe(10);
      expect(c.context.length).toBeGreaterThan(0);
      expect(c.context[c.context.length - 1]?.role).toBe('customer');
    }
    expect(await rankingCasesFromDataset(models, datasetId, { count: 10, seed: 3 })).toEqual(cases);
    expect(await rankingCasesFromDataset(models, datasetId, { count: 10, seed: 4 })).not.toEqual(cases);
  });

  it('writes cases and ranks them from the CLI, printing {r1, mrr, n}', async () => {
    const env = cliEnvSharing(mongo, connection, data.dir);
    const file = path.join(data.dir, 'cases.jsonl');
    const written = await runCli(
      ['eval', 'cases', '--dataset', datasetId, '--out', file, '--count', '8'],
      env,
    );
    expect(written.code).toBe(0);
    expect(JSON.parse(written.stdout)).toEqual({ cases: 8, out: file });
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(8);

    const ranked = await runCli(['eval', 'ranking', '--model', base, '--cases', file], env);
    expect(ranked.code).toBe(0);
    const result = JSON.parse(ranked.stdout);
    expect(Object.keys(result).sort()).toEqual(['mrr', 'n', 'r1']);
    expect(result.n).toBe(8);
    expect(result.mrr).toBeGreaterThanOrEqual(result.r1);
    expect(result.mrr).toBeLessThanOrEqual(1);
  });
});
