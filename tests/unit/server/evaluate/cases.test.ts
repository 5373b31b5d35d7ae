import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRankingCases } from '../../../../server/evaluate/cases.js';
import { tempDataDir } from '../../../support/env.js';

describe('readRankingCases', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDataDir();
  });
  afterAll(() => dir.cleanup());

  const write = async (lines: string[]) => {
    const file = path.join(dir.dir, `${Math.random()}.jsonl`);
    await writeFile(file, lines.join('\n'));
    return file;
  };
  const good = { id: 'a', context: [{ role: 'customer', text: 'hi' }], candidates: ['x', 'y'], answer: 1 };

  it('reads one case per line', async () => {
    expect(
      await readRankingCases(await write([JSON.stringify(good), '', JSON.stringify({ ...good, id: 'b' })])),
    ).toHaveLength(2);
  });

  it.each([
    ['an answer outside the candidates', { ...good, answer: 2 }, /answer/],
    ['a single candidate', { ...good, candidates: ['x'] }, /candidates/],
    ['an unknown role', { ...good, context: [{ role: 'bot', text: 'x' }] }, /role/],
  ])('rejects %s, naming the line', async (_what, value, message) => {
    await expect(
      readRankingCases(await write([JSON.stringify(good), JSON.stringify(value)])),
    ).rejects.toThrow(/line 2/);
    await expect(readRankingCases(await write([JSON.stringify(value)]))).rejects.toThrow(message);
  });

  it('rejects a line that is not JSON', async () => {
    await expect(readRankingCases(await write(['{oops']))).rejects.toThrow(/line 1 is not valid JSON/);
  });
});
