import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';

describe('parley site', () => {
  let dataDir: { dir: string; cleanup: () => Promise<void> };
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = await tempDataDir();
    env = { PARLEY_DATA_DIR: dataDir.dir, PARLEY_PUBLIC_URL: 'https://chat.shop.example' };
  });
  afterAll(() => dataDir.cleanup());

  it('adds a site and prints the one-line embed snippet', async () => {
    const { code, stdout, stderr } = await runCli(
      [
        'site',
        'add',
        '--name',
        'shop',
        '--origin',
        'https://Shop.Example/',
        '--origin',
        'http://localhost:8080',
      ],
      env,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^<script src="https:\/\/chat\.shop\.example\/widget\.js" data-site-key="pk_[\w-]{24}" async><\/script>\n$/,
    );
    expect(stderr).toContain('https://shop.example, http://localhost:8080');
  });

  it('lists sites with their key, origins and snippet as JSON', async () => {
    const { code, stdout } = await runCli(['site', 'list'], env);
    expect(code).toBe(0);
    const [site] = JSON.parse(stdout);
    expect(site).toMatchObject({
      name: 'shop',
      origins: ['https://shop.example', 'http://localhost:8080'],
      disabled: false,
      handoffThreshold: 0.05,
    });
    expect(site.snippet).toContain(`data-site-key="${site.publicKey}"`);
  });

  it.each([
    ['a name in use', ['--name', 'shop', '--origin', 'https://x.example'], /exists already/],
    ['a bad origin', ['--name', 'bad', '--origin', 'shop.example'], /not an origin/],
    ['no origin', ['--name', 'bad'], /--origin/],
    [
      'a threshold out of range',
      ['--name', 'bad', '--origin', 'https://x.example', '--handoff-threshold', '3'],
      /from 0 to 1/,
    ],
  ])('refuses %s with a message and a non-zero exit', async (_case, args, message) => {
    const { code, stderr, stdout } = await runCli(['site', 'add', ...args], env);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
  });

  it("changes a site's look, texts and threshold from JSON files, keeping its key", async () => {
    const before = JSON.parse((await runCli(['site', 'list'], env)).stdout)[0];
    const theme = path.join(dataDir.dir, 'theme.json');
    const texts = path.join(dataDir.dir, 'texts.json');
    await writeFile(
      theme,
      JSON.stringify({ position: 'left', primaryColor: '#aa3300', fontFamily: '"Inter", sans-serif' }),
    );
    await writeFile(
      texts,
      JSON.stringify({ en: { title: 'Ask the shop' }, fr: { title: 'Demandez à la boutique' } }),
    );
    const { code, stdout } = await runCli(
      ['site', 'update', '--name', 'shop', '--theme', theme, '--texts', texts, '--handoff-threshold', '0.2'],
      env,
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      publicKey: before.publicKey,
      theme: { position: 'left', primaryColor: '#aa3300', launcherIcon: 'chat' },
      texts: { fr: { title: 'Demandez à la boutique' } },
      handoffThreshold: 0.2,
    });
  });

  it.each([
    ['a bad color', { primaryColor: 'url(javascript:x)' }, /primaryColor: expected a CSS color/],
    ['an unknown position', { position: 'top' }, /position/],
  ])('refuses a theme with %s and changes nothing', async (_case, value, message) => {
    const theme = path.join(dataDir.dir, 'bad-theme.json');
    await writeFile(theme, JSON.stringify(value));
    const before = (await runCli(['site', 'list'], env)).stdout;
    const { code, stderr } = await runCli(['site', 'update', '--name', 'shop', '--theme', theme], env);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
    expect((await runCli(['site', 'list'], env)).stdout).toBe(before);
  });

  it('says which site does not exist', async () => {
    const { code, stderr } = await runCli(
      ['site', 'update', '--name', 'nope', '--handoff-threshold', '0.1'],
      env,
    );
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/No site named "nope"/);
  });
});
