import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedMongo, startEmbeddedMongo } from '../../server/db/embedded/index.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { sourceIdFor } from '../../server/ingest/sources.js';
import { CLI, cliEnv, exitOf, runCli } from '../support/cli.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { rawTicket } from '../support/support-logs.js';

/** A company's MongoDB with support logs, and a Parley server whose database the CLI joins. */
describe('parley source and parley ingest', () => {
  let company: EmbeddedMongo;
  let client: MongoClient;
  let parley: RunningParley;
  let dataDir: { dir: string; cleanup: () => Promise<void> };
  let mappingFile: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    company = await startEmbeddedMongo({ dataDir: null });
    client = await new MongoClient(company.uri).connect();
    const tickets = Array.from({ length: 400 }, (_, i) =>
      rawTicket(
        `T${i}`,
        ['My name is Dana Scully', 'Thanks Dana', 'bye'],
        new Date(Date.UTC(2024, 0, 1, 0, i)),
      ),
    ).flat();
    await client.db('company').collection('support_messages').insertMany(tickets);

    dataDir = await tempDataDir();
    parley = await startParley(testEnv(dataDir.dir));
    env = { PARLEY_DATA_DIR: dataDir.dir };
    mappingFile = path.join(dataDir.dir, 'mapping.json');
    const shipped = path.join(import.meta.dirname, '../../server/ingest/mappings/demo-support-messages.json');
    await writeFile(mappingFile, await readFile(shipped));
  });
  afterAll(async () => {
    await parley.close();
    await client.close();
    await company.stop();
    await dataDir.cleanup();
  });

  const add = (name: string, extra: string[] = []) =>
    runCli(
      [
        'source',
        'add',
        '--name',
        name,
        '--uri',
        company.uri,
        '--db',
        'company',
        '--collection',
        'support_messages',
        '--mapping',
        mappingFile,
        ...extra,
      ],
      env,
    );

  it('adds a source after checking that it answers, and never prints its URI', async () => {
    const added = await add('shop');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      name: 'shop',
      database: 'company',
      collection: 'support_messages',
      shape: 'message-per-document',
    });
    expect(added.stdout + added.stderr).not.toContain(company.uri);
    expect(await parley.db.models.AuditEvent.findOne({ action: 'source.add' }).lean()).toMatchObject({
      actor: { kind: 'cli' },
      details: { name: 'shop', kind: 'mongodb' },
    });

    const listed = await runCli(['source', 'list'], env);
    expect(JSON.parse(listed.stdout).map((s: { name: string }) => s.name)).toContain('shop');
    expect(listed.stdout).not.toContain('mongodb://');
  });

  it.each([
    ['a name that exists', ['--name', 'shop'], /exists already/],
    [
      'a mapping that is not valid',
      ['--name', 'x', '--mapping', path.join(import.meta.dirname, '../../package.json')],
      /Invalid field mapping/,
    ],
    [
      'a collection that does not exist',
      ['--name', 'y', '--collection', 'nope'],
      /company\.nope does not exist/,
    ],
  ])('refuses %s with a message and a non-zero exit', async (_what, overrides, message) => {
    const args = [
      'source',
      'add',
      '--name',
      'n',
      '--uri',
      company.uri,
      '--db',
      'company',
      '--collection',
      'support_messages',
      '--mapping',
      mappingFile,
    ];
    for (let i = 0; i < overrides.length; i += 2) args[args.indexOf(overrides[i]!) + 1] = overrides[i + 1]!;
    const result = await runCli(args, env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain(company.uri);
  });

  it('says why an unreachable source cannot be added, without its URI', async () => {
    const result = await runCli(
      [
        'source',
        'add',
        '--name',
        'down',
        '--uri',
        'mongodb://user:secret@127.0.0.1:1/x?serverSelectionTimeoutMS=500',
        '--db',
        'x',
        '--collection',
        'y',
        '--mapping',
        mappingFile,
      ],
      env,
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Cannot read the source/);
    expect(result.stderr).not.toContain('secret');
  });

  it('resumes after the ingest process is killed midway, losing and duplicating nothing', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'ingest', '--source', 'shop', '--batch-size', '25', '--json'],
      { env: cliEnv(env) },
    );
    const runs = parley.db.models.IngestionRun;
    const deadline = Date.now() + 30_000;
    let killedAt = 0;
    while (Date.now() < deadline) {
      const run = await runs.findOne({ sourceId: sourceIdFor('shop') }).lean();
      if (run?.counts && run.counts.read > 0 && run.status === 'running') {
        killedAt = run.counts.read;
        child.kill('SIGKILL');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await exitOf(child);
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(1200);

    const resumed = await runCli(['ingest', '--source', 'shop', '--json'], env);
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.stdout);
    expect(Object.keys(summary)).toEqual(
      expect.arrayContaining(['read', 'conversations', 'messages', 'quarantined', 'watermark', 'durationMs']),
    );
    expect(summary.read).toBeLessThanOrEqual(1200 - killedAt + 25);

    const conversations = await parley.db.models.Conversation.find(
      { sourceId: sourceIdFor('shop') },
      { messages: 1 },
    ).lean();
    expect(conversations).toHaveLength(400);
    expect(conversations.every((c) => c.messages.length === 3)).toBe(true);
    const statuses = (
      await runs
        .find({ sourceId: sourceIdFor('shop') })
        .sort({ startedAt: 1 })
        .lean()
    ).map((r) => r.status);
    expect(statuses).toEqual(['failed', 'succeeded']);

    const again = JSON.parse((await runCli(['ingest', '--source', 'shop', '--json'], env)).stdout);
    expect(again).toMatchObject({ read: 0, messages: 0 });
  });

  it('prints a readable summary without --json', async () => {
    const result = await runCli(['ingest', '--source', 'shop', '--full'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Ingested source "shop" \(succeeded\)/);
    expect(result.stderr).toMatch(/ingest shop: \d+(\/\d+)? docs read/);
  });

  it('asks for exactly one of --source and --file', async () => {
    const result = await runCli(['ingest'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/exactly one of --source NAME or --file PATH/);
  });
});
