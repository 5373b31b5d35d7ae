import { describe, expect, it } from 'vitest';
import { eventArgs } from '../../../../server/realtime/event-args.js';

describe('eventArgs', () => {
  const ack = () => undefined;

  it.each<[string, unknown[], unknown, number, boolean]>([
    ['a payload and an ack', [{ a: 1 }, ack], { a: 1 }, 0, true],
    ['an ack alone (no payload)', [ack], undefined, 0, true],
    ['a payload without an ack', [{ a: 1 }], { a: 1 }, 0, false],
    ['nothing', [], undefined, 0, false],
    ['extra arguments before the ack', [{ a: 1 }, 'x', 2, ack], { a: 1 }, 2, true],
    ['extra arguments and no ack', [{ a: 1 }, 'x'], { a: 1 }, 1, false],
  ])('reads %s', (_label, args, payload, extra, acked) => {
    const read = eventArgs(args);
    expect(read.payload).toEqual(payload);
    expect(read.extra).toBe(extra);
    expect(read.reply === ack).toBe(acked);
    expect(() => read.reply({ ok: false })).not.toThrow();
  });
});
