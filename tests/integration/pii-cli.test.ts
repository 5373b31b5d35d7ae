import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, cliEnv, runCli } from '../support/cli.js';
import { tempDataDir } from '../support/env.js';

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('parley pii detect', () => {
  let data: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    data = await tempDataDir();
  });
  afterEach(() => data.cleanup());

  it('writes one line per input line, with offsets into the input text', async () => {
    const inputs = [
      { id: 'a', text: '😀 Hi, my name is José Núñez, call me on +44 20 7946 0958. José here.' },
      { id: 'b', text: 'My card is 4111 1111 1111 1111 and my email is jose@example.com' },
      { id: 'c', text: 'Nothing personal at 10:30 am for $4.50.' },
    ];
    const { code, stdout } = await runCli(
      ['pii', 'detect'],
      { PARLEY_DATA_DIR: data.dir },
      inputs.map((i) => JSON.stringify(i)).join('\n'),
    );
    expect(code).toBe(0);
    const out = lines(stdout);
    expect(out.map((o) => o.id)).toEqual(['a', 'b', 'c']);
    const spans = out.map((o, i) =>
      o.entities.map((e: { type: string; start: number; end: number }) => [
        e.type,
        inputs[i]!.text.slice(e.start, e.end),
      ]),
    );
    expect(spans).toEqual([
      [
        ['PERSON', 'José Núñez'],
        ['PHONE_NUMBER', '+44 20 7946 0958'],
        ['PERSON', 'José'],
      ],
      [
        ['CREDIT_CARD', '4111 1111 1111 1111'],
        ['EMAIL_ADDRESS', 'jose@example.com'],
      ],
      [],
    ]);
    expect(out[0].text).toBe('😀 Hi, my name is <PERSON_1>, call me on <PHONE_NUMBER_1>. <PERSON_1> here.');
    expect(out[2].text).toBe(inputs[2]!.text);
  });

  it('streams: answers a line before stdin is closed', async () => {
    const child = spawn(process.execPath, [CLI, 'pii', 'detect', '--operator', 'redact'], {
      env: cliEnv({ PARLEY_DATA_DIR: data.dir }),
    });
    const output = createInterface({ input: child.stdout });
    const first = new Promise<string>((resolve) => output.once('line', resolve));
    child.stdin.write(`${JSON.stringify({ id: 'x', text: 'I am Tyler Jones.' })}\n`);
    expect(JSON.parse(await first)).toEqual({
      id: 'x',
      text: 'I am <PERSON>.',
      entities: [{ type: 'PERSON', start: 5, end: 16 }],
    });
    expect(child.exitCode).toBeNull();
    child.stdin.end();
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
  });

  it('reports bad lines by number on stderr, goes on, and exits non-zero', async () => {
    const { code, stdout, stderr } = await runCli(
      ['pii', 'detect'],
      { PARLEY_DATA_DIR: data.dir },
      ['{"id":"1","text":"I am Angela."}', 'not json', '{"id":3}', '{"id":"4","text":"Thanks, Ben!"}'].join(
        '\n',
      ),
    );
    expect(code).not.toBe(0);
    expect(lines(stdout).map((o) => [o.id, o.text])).toEqual([
      ['1', 'I am <PERSON_1>.'],
      ['4', 'Thanks, <PERSON_1>!'],
    ]);
    expect(stderr).toMatch(/line 2: /);
    expect(stderr).toMatch(/line 3: /);
    expect(stderr).toMatch(/2 bad lines/);
  });

  it('rejects an unknown operator', async () => {
    const { code, stderr } = await runCli(['pii', 'detect', '--operator', 'shred'], {
      PARLEY_DATA_DIR: data.dir,
    });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/expected one of pseudonymize, mask, redact, hash/);
  });
});

describe('parley anonymize', () => {
  let data: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    data = await tempDataDir();
  });
  afterEach(() => data.cleanup());

  const fixture = {
    conversationId: 'star-1',
    channel: 'chat',
    startedAt: '2020-05-13T13:14:24Z',
    turns: [
      { role: 'customer', text: 'Hi, I am Brian White. My PIN is 9431.', ts: '2020-05-13T13:14:30Z' },
      {
        role: 'agent',
        text: 'Thanks Brian. Could you provide your date of birth, please?',
        ts: '2020-05-13T13:14:40Z',
      },
      { role: 'customer', text: '06/08/1985', ts: '2020-05-13T13:14:57Z' },
    ],
    meta: {
      apiCalls: [
        { constraints: [{ FullName: '"Brian White"' }, { PIN: '9431' }, { DateOfBirth: '"06/08/1985"' }] },
      ],
    },
  };

  it('anonymizes a conversations file and prints a JSON summary', async () => {
    const input = path.join(data.dir, 'conversations.jsonl');
    const output = path.join(data.dir, 'anon.jsonl');
    await writeFile(input, `${JSON.stringify(fixture)}\n`);
    const { code, stdout, stderr } = await runCli(['anonymize', '--in', input, '--out', output], {
      PARLEY_DATA_DIR: data.dir,
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      conversations: 1,
      turns: 3,
      entities: { PERSON: 3, PIN: 2, DATE_OF_BIRTH: 2 },
      operators: { pseudonymize: 7 },
    });
    expect(JSON.parse(stdout).durationMs).toBeGreaterThanOrEqual(0);
    expect(stderr).toMatch(/anonymized 1 conversations/);
    const [written] = lines(await readFile(output, 'utf8'));
    expect(written.turns.map((t: { text: string }) => t.text)).toEqual([
      'Hi, I am <PERSON_1>. My PIN is <PIN_1>.',
      'Thanks <PERSON_1>. Could you provide your date of birth, please?',
      '<DATE_OF_BIRTH_1>',
    ]);
    expect(written.meta.apiCalls[0].constraints).toEqual([
      { FullName: '"<PERSON_1>"' },
      { PIN: '<PIN_1>' },
      { DateOfBirth: '"<DATE_OF_BIRTH_1>"' },
    ]);
    expect(written.conversationId).toBe('star-1');
  });

  it('fails with a message naming a missing input file', async () => {
    const { code, stderr, stdout } = await runCli(
      ['anonymize', '--in', path.join(data.dir, 'missing.jsonl'), '--out', path.join(data.dir, 'x.jsonl')],
      { PARLEY_DATA_DIR: data.dir },
    );
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/cannot read .*missing\.jsonl/);
  });
});
