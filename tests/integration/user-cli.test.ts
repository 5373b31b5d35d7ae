import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';

describe('parley user', () => {
  let dataDir: { dir: string; cleanup: () => Promise<void> };
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = await tempDataDir();
    env = { PARLEY_DATA_DIR: dataDir.dir };
  });
  afterAll(() => dataDir.cleanup());

  it('adds the first admin with a generated password, shown once on stderr, and audits it', async () => {
    const { code, stdout, stderr } = await runCli(
      ['user', 'add', '--email', 'Root@Shop.example', '--role', 'admin'],
      env,
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ email: 'root@shop.example', name: 'Root', role: 'admin' });
    expect(stderr).toMatch(/Password for root@shop\.example \(shown once\): [\w-]{16}/);
    expect(stdout).not.toMatch(/Password/);
  });

  it('takes a password from stdin and prints none', async () => {
    const { code, stderr } = await runCli(
      [
        'user',
        'add',
        '--email',
        'dana@shop.example',
        '--role',
        'agent',
        '--name',
        'Dana',
        '--password-stdin',
      ],
      env,
      'a long enough password\n',
    );
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/Password for/);
  });

  it('lists users without password hashes', async () => {
    const { stdout } = await runCli(['user', 'list'], env);
    const users = JSON.parse(stdout);
    expect(users.map((u: { email: string; role: string }) => `${u.email}:${u.role}`)).toEqual([
      'dana@shop.example:agent',
      'root@shop.example:admin',
    ]);
    expect(stdout).not.toMatch(/hash|argon/i);
  });

  it.each([
    ['an email in use', ['--email', 'root@shop.example', '--role', 'agent'], /exists already/],
    ['an unknown role', ['--email', 'x@shop.example', '--role', 'owner'], /--role: expected admin or agent/],
    ['a bad email', ['--email', 'not-an-email', '--role', 'agent'], /email/],
  ])('refuses %s', async (_case, args, message) => {
    const { code, stderr } = await runCli(['user', 'add', ...args], env);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
  });

  it('refuses a short password from stdin', async () => {
    const { code, stderr } = await runCli(
      ['user', 'add', '--email', 'y@shop.example', '--role', 'agent', '--password-stdin'],
      env,
      'short',
    );
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/at least 12 characters/);
  });
});
