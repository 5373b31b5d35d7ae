import { describe, expect, it } from 'vitest';
import { orderedReads } from '../../../../server/serving/ordered-reads.js';

/** A read whose answer the test releases by hand, to finish reads in any order. */
function controlledRead() {
  const pending: ((value: string) => void)[] = [];
  const read = () => new Promise<string>((resolve) => pending.push(resolve));
  return { read, answer: (index: number, value: string) => pending[index]!(value) };
}

describe('orderedReads', () => {
  it('drops an answer that finishes after a read started later (a stale poll after a rollback)', async () => {
    const { read, answer } = controlledRead();
    const readActive = orderedReads(read);
    const poll = readActive(); // started first: reads v2, the version before the rollback
    const rollback = readActive(); // started after the rollback committed: reads v1
    answer(1, 'v1');
    expect(await rollback).toEqual({ value: 'v1', current: true });
    answer(0, 'v2');
    expect(await poll).toEqual({ value: 'v2', current: false });
  });

  it('applies answers that finish in the order their reads started', async () => {
    const { read, answer } = controlledRead();
    const readActive = orderedReads(read);
    const first = readActive();
    const second = readActive();
    answer(0, 'v2');
    expect(await first).toEqual({ value: 'v2', current: true });
    answer(1, 'v1');
    expect(await second).toEqual({ value: 'v1', current: true });
    expect(await Promise.all([readActive(), Promise.resolve(answer(2, 'v3'))])).toEqual([
      { value: 'v3', current: true },
      undefined,
    ]);
  });
});
