import { access } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SNAPSHOT_FILE } from '../../server/db/embedded/index.js';
import { exitOf, runCli, startServe } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';

describe('parley CLI', () => {
  let dataDir: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dataDir = await tempDataDir();
  });
  afterEach(() => dataDir.cleanup());

  it('lists its commands and every environment variable in --help', async () => {
    const { code, stdout } = await runCli(['--help'], {});
    expect(code).toBe(0);
    for (const command of ['serve', 'seed', 'db'])
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(stdout).toContain('PARLEY_DATA_DIR');
  });

  it.each(['serve', 'seed', 'db status'])('prints help for `%s`', async (command) => {
    const { code, stdout } = await runCli([...command.split(' '), '--help'], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: parley /);
  });

  it('fails with a non-zero exit and a message on stderr for an unknown command', async () => {
    const { code, stderr, stdout } = await runCli(['nonsense'], {});
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/unknown command 'nonsense'/);
    expect(stdout).toBe('');
  });

  it('refuses to serve with a bad environment, naming each bad variable', async () => {
    const { code, stderr } = await runCli(['serve'], {
      PARLEY_DATA_DIR: dataDir.dir,
      PORT: 'eighty',
      TFJS_BACKEND: 'quantum',
    });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/PORT: expected a port/);
    expect(stderr).toMatch(/TFJS_BACKEND: /);
  });

  it('prints the database status as JSON', async () => {
    const { code, stdout } = await runCli(['db', 'status'], { PARLEY_DATA_DIR: dataDir.dir });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      ok: true,
      mode: 'embedded',
      database: 'parley',
      seeded: false,
    });
  });

  it('seeds idempotently: the second run adds nothing', async () => {
    const env = { PARLEY_DATA_DIR: dataDir.dir };
    const first = await runCli(['seed', '--limit', '5'], env);
    expect(first.code).toBe(0);
    const firstSummary = JSON.parse(first.stdout);
    expect(firstSummary.source).toMatchObject({ conversations: 20, existing: 0 });
    expect(firstSummary.source.inserted).toBeGreaterThan(20);

    const second = JSON.parse((await runCli(['seed', '--limit', '5'], env)).stdout);
    expect(second.source).toMatchObject({ inserted: 0, existing: firstSummary.source.inserted });
    expect(second.users.created).toEqual([]);

    const status = JSON.parse((await runCli(['db', 'status'], env)).stdout);
    expect(status.demoSource.collections.support_messages).toBe(firstSummary.source.inserted);
    expect(status.collections.users).toBe(2);
    expect(status.seeded).toBe(true);
  });

  it('rejects a bad --limit', async () => {
    const { code, stderr } = await runCli(['seed', '--limit', 'lots'], { PARLEY_DATA_DIR: dataDir.dir });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/expected a positive integer/);
  });

  it('serves /healthz, shares its database with other commands, and exits 0 on Ctrl-C', async () => {
    const env = { PARLEY_DATA_DIR: dataDir.dir, PORT: '0', PARLEY_DEMO: 'false' };
    const { child, url } = await startServe(env);
    try {
      // A fresh data directory: the shipped starter model is installed and registered as v1.
      expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ ok: true, db: 'up', model: 'v1' });
      const status = JSON.parse((await runCli(['db', 'status'], env)).stdout);
      expect(status.mode).toBe('embedded-shared');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exitOf(child)).toBe(0);
    await access(path.join(dataDir.dir, SNAPSHOT_FILE));
  });
});
