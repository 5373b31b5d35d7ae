import { describe, expect, it } from 'vitest';
import { splitOf } from '../../../../server/datasets/split.js';

describe('splitOf', () => {
  it('is deterministic per conversation', () => {
    expect(splitOf('6b0a161c808805d04f1f242f', 10)).toBe(splitOf('6b0a161c808805d04f1f242f', 10));
  });

  it.each([
    [0, 0],
    [10, 10],
    [50, 50],
  ])('puts about %i%% of conversations in validation', (percent, expected) => {
    const ids = Array.from({ length: 4000 }, (_, i) => `conversation-${i}`);
    const share = (ids.filter((id) => splitOf(id, percent) === 'validation').length / ids.length) * 100;
    expect(Math.abs(share - expected)).toBeLessThan(2.5);
  });
});
