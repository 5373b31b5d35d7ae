import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { anonymizeFile, BadLineError } from '../../../../server/privacy/anonymize-file.js';
import { createAnonymizer } from '../../../../server/privacy/pii/index.js';
import { tempDataDir } from '../../../support/env.js';

const conversation = (id: string, name: string) => ({
  conversationId: id,
  channel: 'chat',
  startedAt: '2020-05-13T13:14:24Z',
  turns: [
    { role: 'agent', text: 'Could I get your full name, please?', ts: '2020-05-13T13:14:30Z' },
    { role: 'customer', text: name, ts: '2020-05-13T13:14:57Z' },
    {
      role: 'agent',
      text: `Thanks ${name.split(' ')[0]}, what is your account number?`,
      ts: '2020-05-13T13:15:14Z',
    },
    { role: 'customer', text: '95381901', ts: '2020-05-13T13:15:30Z' },
  ],
  meta: { apiCalls: [{ constraints: [{ FullName: `"${name}"` }, { AccountNumber: 95381901 }] }] },
});

describe('anonymizeFile', () => {
  let data: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    data = await tempDataDir();
  });
  afterEach(() => data.cleanup());

  it('anonymizes turns and metadata per conversation, .jsonl in and .jsonl.br out', async () => {
    const input = path.join(data.dir, 'in.jsonl');
    const output = path.join(data.dir, 'out.jsonl.br');
    await writeFile(
      input,
      `${JSON.stringify(conversation('c1', 'Tyler Jones'))}\n\n${JSON.stringify(conversation('c2', 'Sarah Brown'))}\n`,
    );
    const summary = await anonymizeFile({ input, output, anonymizer: createAnonymizer({ hashKey: 'k' }) });
    expect(summary).toMatchObject({
      conversations: 2,
      turns: 8,
      entities: { PERSON: 6, ACCOUNT_NUMBER: 4 },
      operators: { pseudonymize: 10 },
    });
    const lines = brotliDecompressSync(await readFile(output))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.turns.map((t: { text: string }) => t.text)).toEqual([
        'Could I get your full name, please?',
        '<PERSON_1>',
        'Thanks <PERSON_1>, what is your account number?',
        '<ACCOUNT_NUMBER_1>',
      ]);
      expect(line.meta.apiCalls[0].constraints).toEqual([
        { FullName: '"<PERSON_1>"' },
        { AccountNumber: '<ACCOUNT_NUMBER_1>' },
      ]);
    }
    expect(lines[1].conversationId).toBe('c2');
  });

  it('reads brotli input and names the bad line, leaving no output behind', async () => {
    const input = path.join(data.dir, 'in.jsonl.br');
    const output = path.join(data.dir, 'out.jsonl');
    await writeFile(
      input,
      brotliCompressSync(`${JSON.stringify(conversation('c1', 'Tyler Jones'))}\n{"turns": 3}\n`),
    );
    const error = await anonymizeFile({
      input,
      output,
      anonymizer: createAnonymizer({ hashKey: 'k' }),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(BadLineError);
    expect(error.message).toMatch(/in\.jsonl\.br line 2: /);
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });
});
