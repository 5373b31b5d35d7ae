import { describe, expect, it } from 'vitest';
import {
  applyRepetitionPenalty,
  argmax,
  drawIndex,
  type SamplingOptions,
  sampleToken,
  samplingDistribution,
  validateSampling,
} from '../../../../server/ml/sampling.js';
import { seededRandom } from '../../../../server/seeded-random.js';

const LOGITS = Float32Array.from([1.5, -2, 3, 0.5, 3, -0.25, 2.5, -4]);
const logits = () => Float32Array.from(LOGITS);

/** Token frequencies over `draws` samples. */
function histogram(options: SamplingOptions, draws: number, seed = 7): number[] {
  const random = seededRandom(seed);
  const counts = new Array(LOGITS.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleToken(logits(), options, random)]++;
  return counts;
}

describe('seededRandom', () => {
  it('repeats for a seed, differs across seeds and stays in [0, 1)', () => {
    const a = seededRandom(3);
    const b = seededRandom(3);
    const c = seededRandom(4);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });
});

describe('argmax', () => {
  it.each([
    [[0, 1, 2], 2],
    [[5, 1, 2], 0],
    [[-3, -1, -2], 1],
    // ties: the first one
    [[1, 3, 3], 1],
    [[7], 0],
  ])('of %j is %i', (values, expected) => {
    expect(argmax(Float32Array.from(values))).toBe(expected);
  });
});

describe('applyRepetitionPenalty', () => {
  it.each([
    ['divides positive and multiplies negative logits of seen tokens', [0, 1], 2, [0.75, -4, 3, 0.5]],
    ['counts a token seen twice once', [2, 2, 2], 2, [1.5, -2, 1.5, 0.5]],
    ['is a no-op with penalty 1', [0, 1, 2, 3], 1, [1.5, -2, 3, 0.5]],
    ['is a no-op with nothing seen', [], 3, [1.5, -2, 3, 0.5]],
    ['ignores ids outside the vocabulary', [9, -1], 2, [1.5, -2, 3, 0.5]],
    ['favours seen tokens when below 1', [0, 1], 0.5, [3, -1, 3, 0.5]],
  ])('%s', (_, seen, penalty, expected) => {
    const input = Float32Array.from([1.5, -2, 3, 0.5]);
    expect([...applyRepetitionPenalty(input, seen, penalty)]).toEqual(expected);
    expect([...input]).toEqual([1.5, -2, 3, 0.5]);
  });

  it('leaves a zero logit at zero', () => {
    expect([...applyRepetitionPenalty(Float32Array.from([0, 1]), [0], 2)]).toEqual([0, 1]);
  });
});

describe('samplingDistribution', () => {
  it('is the softmax of logits / temperature without top-k or top-p', () => {
    const probs = samplingDistribution(logits(), { temperature: 2 });
    const exps = [...LOGITS].map((v) => Math.exp(v / 2));
    const total = exps.reduce((a, b) => a + b, 0);
    for (const [i, p] of probs.entries()) expect(p).toBeCloseTo(exps[i]! / total, 6);
  });

  it.each([
    // sorted: 2 and 4 (3), 6 (2.5), 0 (1.5), 3 (0.5), 5, 1, 7
    ['top-k 1 keeps the first of the tied best', { topK: 1 }, [2]],
    ['top-k 3 keeps the three best', { topK: 3 }, [2, 4, 6]],
    ['top-k past the vocabulary keeps everything', { topK: 100 }, [0, 1, 2, 3, 4, 5, 6, 7]],
    ['a tiny top-p keeps only the best', { topP: 1e-9 }, [2]],
    ['top-p 1 keeps everything', { topP: 1 }, [0, 1, 2, 3, 4, 5, 6, 7]],
    ['top-p 0.5 keeps the two tied best (mass 0.34, then 0.68)', { topP: 0.5 }, [2, 4]],
    ['top-p 0.8 adds the third (mass 0.88)', { topP: 0.8 }, [2, 4, 6]],
    ['top-k applies before top-p', { topK: 2, topP: 0.9 }, [2, 4]],
  ])('%s', (_, options, kept) => {
    const probs = samplingDistribution(logits(), options);
    const nonzero = [...probs.keys()].filter((i) => probs[i]! > 0);
    expect(nonzero.sort()).toEqual(kept);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('renormalizes the kept tokens in their original ratios', () => {
    const probs = samplingDistribution(logits(), { topK: 3 });
    expect(probs[2]! / probs[6]!).toBeCloseTo(Math.exp(0.5), 6);
  });
});

/** top-k and top-p by their definition: sort the whole vocabulary, most likely (then lowest id) first. */
function referenceDistribution(logits: Float32Array, temperature: number, topK?: number, topP = 1): number[] {
  const exps = [...logits].map((v) => Math.exp(v / temperature));
  const total = exps.reduce((a, b) => a + b, 0);
  const probs = exps.map((e) => e / total);
  const order = probs.map((_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
  const kept: number[] = [];
  let mass = 0;
  for (const id of order.slice(0, topK ?? order.length)) {
    if (kept.length > 0 && mass >= topP) break;
    kept.push(id);
    mass += probs[id]!;
  }
  const out = new Array(probs.length).fill(0);
  for (const id of kept) out[id] = probs[id]! / mass;
  return out;
}

describe('samplingDistribution on a large vocabulary', () => {
  const random = seededRandom(5);
  // Logits on a 0.25 grid: many ties, including at the edge of the kept set.
  const large = Float32Array.from({ length: 5000 }, () => Math.round(16 * (random() + random() - 1)) / 4);
  it.each([
    [1, undefined, 0.9],
    [1, undefined, 0.5],
    [0.5, undefined, 0.95],
    [3, undefined, 0.99],
    [1, 1, 1],
    [1, 40, 1],
    [2, 333, 1],
    [1, 40, 0.3],
    [0.7, 4999, 0.9],
  ])(
    'at temperature %d with top-k %s and top-p %d keeps what sorting the whole vocabulary keeps',
    (temperature, topK, topP) => {
      const probs = samplingDistribution(large, { temperature, topK, topP });
      const expected = referenceDistribution(large, temperature, topK, topP);
      const kept = (values: ArrayLike<number>) =>
        Array.from(values, (v, i) => (v > 0 ? i : -1)).filter((i) => i >= 0);
      expect(kept(probs)).toEqual(kept(expected));
      for (const i of kept(expected)) expect(probs[i]).toBeCloseTo(expected[i]!, 12);
    },
  );
});

describe('drawIndex', () => {
  it.each([
    [0, 1],
    [0.2499, 1],
    [0.25, 3],
    [0.9999999, 3],
  ])('maps uniform %f to index %i of [0, 0.25, 0, 0.75]', (u, expected) => {
    expect(drawIndex(Float64Array.from([0, 0.25, 0, 0.75]), () => u)).toBe(expected);
  });

  it('returns the last possible token when rounding leaves the total under the draw', () => {
    expect(drawIndex(Float64Array.from([0.3, 0.3, 0.3999999, 0]), () => 0.99999999)).toBe(2);
  });
});

describe('sampleToken', () => {
  it.each([
    ['temperature 0', { temperature: 0 }],
    ['top-k 1', { topK: 1 }],
    ['a tiny top-p', { topP: 1e-6, temperature: 5 }],
  ])('with %s always picks the argmax', (_, options) => {
    const counts = histogram(options, 200);
    expect(counts[argmax(LOGITS)]).toBe(200);
  });

  it('with temperature 0 picks the argmax after the repetition penalty', () => {
    // 2 and 4 tie at 3; penalizing 2 leaves 4, and penalizing both leaves 6 (2.5).
    expect(sampleToken(logits(), { temperature: 0, repetitionPenalty: 2 }, Math.random, [2])).toBe(4);
    expect(sampleToken(logits(), { temperature: 0, repetitionPenalty: 2 }, Math.random, [2, 4])).toBe(6);
  });

  it('follows the softmax frequencies at temperature 1', () => {
    const draws = 20_000;
    const counts = histogram({}, draws);
    const expected = samplingDistribution(logits(), {});
    for (const [i, c] of counts.entries()) expect(Math.abs(c / draws - expected[i]!)).toBeLessThan(0.015);
  });

  it('spreads draws wider at a high temperature than at a low one', () => {
    const best = (t: number) =>
      histogram({ temperature: t }, 2000)[2]! + histogram({ temperature: t }, 2000)[4]!;
    expect(best(0.2)).toBeGreaterThan(best(5));
  });

  it('draws only kept tokens under top-k', () => {
    const counts = histogram({ topK: 3, temperature: 3 }, 2000);
    expect(counts.filter((_, i) => ![2, 4, 6].includes(i)).every((c) => c === 0)).toBe(true);
    expect(counts[2]! * counts[4]! * counts[6]!).toBeGreaterThan(0);
  });

  it('repeats the same draws for the same seed', () => {
    expect(histogram({ temperature: 2 }, 50, 11)).toEqual(histogram({ temperature: 2 }, 50, 11));
  });
});

describe('validateSampling', () => {
  it.each([
    [{}],
    [{ temperature: 0 }],
    [{ temperature: 2.5, topK: 1, topP: 1, repetitionPenalty: 1.3 }],
    [{ topP: 1e-9, repetitionPenalty: 0.5 }],
  ])('accepts %j', (options) => {
    expect(() => validateSampling(options)).not.toThrow();
  });

  it.each([
    [{ temperature: -0.1 }, /temperature must be a finite number >= 0, got -0.1/],
    [{ temperature: Number.NaN }, /temperature .* got NaN/],
    [{ temperature: Number.POSITIVE_INFINITY }, /temperature .* got Infinity/],
    [{ topK: 0 }, /topK must be an integer >= 1, got 0/],
    [{ topK: 2.5 }, /topK .* got 2\.5/],
    [{ topP: 0 }, /topP must be in \(0, 1\], got 0/],
    [{ topP: 1.1 }, /topP .* got 1\.1/],
    [{ topP: Number.NaN }, /topP .* got NaN/],
    [{ repetitionPenalty: 0 }, /repetitionPenalty must be a finite number > 0, got 0/],
    [{ repetitionPenalty: -1 }, /repetitionPenalty .* got -1/],
  ])('rejects %j', (options, message) => {
    expect(() => validateSampling(options)).toThrow(message);
  });
});
