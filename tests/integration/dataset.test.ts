import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Collection, Document } from 'mongodb';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataset } from '../../server/datasets/build.js';
import { splitOf } from '../../server/datasets/split.js';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import { inThreadAnonymizer } from '../../server/ingest/batch-anonymizer.js';
import { loadMapping } from '../../server/ingest/mappings/index.js';
import { runIngestion } from '../../server/ingest/run.js';
import { addSource, sourceIdFor } from '../../server/ingest/sources.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../server/ml/testing/tiny-tokenizer.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { createAnonymizer } from '../../server/privacy/pii/index.js';
import { runCli } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { cliEnvSharing } from '../support/pipeline.js';
import { rawTicket } from '../support/support-logs.js';

const hashKey = Buffer.alloc(32, 9);
const day = (d: number) => new Date(Date.UTC(2024, 0, d));

describe('dataset snapshots', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;
  let logs: Collection<Document>;
  let data: { dir: string; cleanup: () => Promise<void> };
  let tokenizer: ChatTokenizer;
  let base: string;

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
    data = await tempDataDir();
    base = path.join(data.dir, 'base');
    await writeTinyCheckpoint(base, { architecture: 'llama', contextLength: 64 });
    await writeTinyTokenizer(base, { chatTemplate: CHATML_TEMPLATE });
    tokenizer = await ChatTokenizer.load(base);

    const sourceDb = (await mongo.connect()).db!;
    logs = sourceDb.collection('support_messages');
    const tickets = Array.from({ length: 30 }, (_, i) =>
      rawTicket(
        `T${i}`,
        ['where is my order', 'sorry for the delay', 'thanks', 'it will arrive tomorrow'],
        day(1 + i),
      ),
    ).flat();
    await logs.insertMany(tickets);
    await addSource(models, {
      name: 'shop',
      kind: 'mongodb',
      uri: mongo.uri,
      database: sourceDb.databaseName,
      collectionName: logs.collectionName,
      mapping: await loadMapping('demo-support-messages'),
    });
    await runIngestion(
      { models, connection, anonymizer: inThreadAnonymizer(createAnonymizer({ hashKey })), hashKey },
      'shop',
    );
  });
  afterAll(async () => {
    await mongo.stop();
    await data.cleanup();
  });

  const build = (filters: Partial<Parameters<typeof buildDataset>[1]> = {}, percent = 20) =>
    buildDataset(
      { models, dataDir: data.dir },
      { sources: ['shop'], ...filters },
      {
        tokenizer,
        baseModel: base,
        contextLength: 64,
        systemPrompt: 'you are helpful',
        validationPercent: percent,
      },
    );

  const linesOf = async (file: string) =>
    (await readFile(file, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(
        (line) => JSON.parse(line) as { conversationId: string; ids: number[]; targets: [number, number][] },
      );

  it('writes train and validation examples split by conversation, with stats and lineage', async () => {
    const dataset = await build();
    expect(dataset.status).toBe('ready');
    expect(dataset.stats).toMatchObject({ conversations: 30, examples: 30 });
    expect(dataset.stats!.trainConversations + dataset.stats!.validationConversations).toBe(30);
    expect(dataset.stats!.targetTokens).toBeGreaterThan(0);
    expect(dataset.stats!.targetTokens).toBeLessThan(dataset.stats!.tokens);
    expect(dataset.render).toMatchObject({
      baseModel: base,
      contextLength: 64,
      systemPrompt: 'you are helpful',
    });
    // The watermark of the last ingested message: ticket T29's fourth message.
    expect((dataset.sourceWatermarks as Record<string, { ts: Date }>).shop?.ts).toEqual(
      new Date(day(30).getTime() + 3000),
    );

    const train = await linesOf(path.join(dataset.artifactPath!, 'train.jsonl'));
    const validation = await linesOf(path.join(dataset.artifactPath!, 'validation.jsonl'));
    expect(train.length + validation.length).toBe(30);
    const trainIds = new Set(train.map((e) => e.conversationId));
    expect(validation.some((e) => trainIds.has(e.conversationId))).toBe(false);
    for (const e of validation) expect(splitOf(e.conversationId, 20)).toBe('validation');
    for (const e of train) {
      const trained = e.targets.map(([s, t]) => tokenizer.decode(e.ids.slice(s, t))).join(' ');
      expect(trained).toContain('sorry for the delay');
      expect(trained).not.toMatch(/where|thanks|helpful/);
    }
  });

  it('is immutable on disk', async () => {
    const dataset = await build();
    const file = path.join(dataset.artifactPath!, 'train.jsonl');
    expect((await stat(file)).mode & 0o777).toBe(0o444);
  });

  it('follows agent ratings: down-rated bot replies are context, corrected ones train on the correction', async () => {
    const conversation = await models.Conversation.findOne({ sourceConversationId: 'T0' });
    conversation!.messages[1]!.role = 'bot';
    conversation!.messages[1]!.rating = {
      value: 'corrected',
      correction: 'sorry please',
      reasons: ['wrong'],
      by: sourceIdFor('agent'),
      at: new Date(),
    };
    conversation!.messages[3]!.role = 'bot';
    conversation!.messages[3]!.rating = {
      value: 'down',
      correction: null,
      reasons: [],
      by: sourceIdFor('agent'),
      at: new Date(),
    };
    await conversation!.save();
    const dataset = await build({}, 0);
    const [example] = (await linesOf(path.join(dataset.artifactPath!, 'train.jsonl'))).filter(
      (e) => e.conversationId === conversation!._id.toHexString(),
    );
    const trained = example!.targets.map(([s, t]) => tokenizer.decode(example!.ids.slice(s, t)));
    expect(trained).toHaveLength(1);
    expect(trained[0]).toContain('sorry please');
    expect(tokenizer.decode(example!.ids)).toContain('it will arrive tomorrow'); // kept as context
  });

  it('leaves out deleted conversations, and those outside the dates or below the agent-turn minimum', async () => {
    await models.Conversation.updateOne({ sourceConversationId: 'T5' }, { $set: { deletedAt: new Date() } });
    expect((await build()).stats?.conversations).toBe(29);
    expect((await build({ since: day(21) })).stats?.conversations).toBe(10);
    expect((await build({ until: day(3) })).stats?.conversations).toBe(2);
    expect((await build({ minAgentTurns: 3 })).stats?.conversations).toBe(0);
  });

  it('refuses an unknown source', async () => {
    await expect(build({ sources: ['nope'] })).rejects.toThrow(/No source named "nope"/);
  });

  it('builds, lists and shows datasets from the CLI', async () => {
    const env = cliEnvSharing(mongo, connection, data.dir);
    const built = await runCli(['dataset', 'build', '--source', 'shop', '--base', base, '--json'], env);
    expect(built.code).toBe(0);
    const dataset = JSON.parse(built.stdout);
    expect(dataset).toMatchObject({ status: 'ready', sources: ['shop'], stats: { conversations: 29 } });
    expect(
      await models.AuditEvent.findOne({ action: 'dataset.build', 'target.id': dataset.id }).lean(),
    ).toMatchObject({
      actor: { kind: 'cli' },
      details: { sources: ['shop'], status: 'ready' },
    });
    const listed = JSON.parse((await runCli(['dataset', 'list'], env)).stdout);
    expect(listed.map((d: { id: string }) => d.id)).toContain(dataset.id);
    const shown = JSON.parse((await runCli(['dataset', 'show', dataset.id], env)).stdout);
    expect(shown).toMatchObject({ id: dataset.id, render: { contextLength: 64 } });
    const missing = await runCli(
      ['dataset', 'build', '--source', 'shop', '--base', path.join(data.dir, 'none')],
      env,
    );
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/Pass --base DIR or set PARLEY_BASE_MODEL/);
  });
});
