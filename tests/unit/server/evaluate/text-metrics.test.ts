import { describe, expect, it } from 'vitest';
import { bleu, rougeL, words } from '../../../../server/evaluate/text-metrics.js';

describe('rougeL', () => {
  it.each([
    ['the cat sat on the mat', 'the cat sat on the mat', 1],
    ['the cat sat on the mat', 'the cat is on the mat', 5 / 6], // LCS "the cat on the mat"
    ['dogs bark', 'the cat is on the mat', 0],
    ['', 'the cat', 0],
    ['Your ORDER ships today!', 'your order ships today', 1],
  ])('%j vs %j is %f', (candidate, reference, expected) => {
    expect(rougeL(candidate, reference)).toBeCloseTo(expected, 10);
  });
});

describe('bleu', () => {
  it('is 1 for an identical reply and 0 for an empty one', () => {
    expect(bleu('it will arrive tomorrow morning', 'it will arrive tomorrow morning')).toBeCloseTo(1, 10);
    expect(bleu('', 'it will arrive tomorrow')).toBe(0);
  });

  it('matches a hand computation with smoothing and brevity penalty', () => {
    // candidate "it will arrive" vs reference "it will arrive tomorrow":
    // p1 = 3/3, p2 = (2+1)/(2+1), p3 = (1+1)/(1+1), p4 = (0+1)/(0+1); BP = exp(1 - 4/3).
    expect(bleu('it will arrive', 'it will arrive tomorrow')).toBeCloseTo(Math.exp(1 - 4 / 3), 10);
  });

  it('ranks a closer reply higher', () => {
    const reference = 'sorry for the delay your package will arrive tomorrow';
    expect(bleu('sorry for the delay it will arrive tomorrow', reference)).toBeGreaterThan(
      bleu('hello how can i help', reference),
    );
  });
});

describe('words', () => {
  it('lower-cases and drops punctuation', () => {
    expect(words("Hi, I'm Ana!")).toEqual(['hi', "i'm", 'ana']);
  });
});
