import { describe, expect, it } from 'vitest';
import { gaussians, secureRng, seededRng } from '../../../../../server/privacy/dp/rng.js';
import { groupByUnit, poissonSample, sampleBatch } from '../../../../../server/privacy/dp/sampling.js';

describe('random sources', () => {
  it('a seeded source repeats itself; different seeds differ', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, seededRng(seed).next);
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it.each([
    ['secure', secureRng()],
    ['seeded', seededRng(42)],
  ])('the %s source is uniform on [0, 1)', (_, rng) => {
    const n = 100_000;
    const values = Array.from({ length: n }, () => rng.next());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((a, b) => a + b, 0) / n;
    // Standard error of the mean of U(0, 1) is 0.2887/√n; allow 5 of them.
    expect(Math.abs(mean - 0.5)).toBeLessThan((5 * 0.2887) / Math.sqrt(n));
    const deciles = new Array(10).fill(0);
    for (const v of values) deciles[Math.floor(v * 10)] += 1;
    for (const count of deciles) expect(Math.abs(count - n / 10)).toBeLessThan(5 * Math.sqrt(n * 0.09));
  });

  it('the secure source draws fresh values across buffer refills', () => {
    const rng = secureRng();
    const values = new Set(Array.from({ length: 20_000 }, () => rng.next()));
    expect(values.size).toBe(20_000);
  });

  it('gaussians have the requested standard deviation and an odd count is honoured', () => {
    const samples = gaussians(seededRng(3), 50_001, 2.5);
    expect(samples).toHaveLength(50_001);
    const n = samples.length;
    const mean = samples.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean)).toBeLessThan((4 * 2.5) / Math.sqrt(n));
    expect(Math.abs(std - 2.5)).toBeLessThan((4 * 2.5) / Math.sqrt(2 * n));
  });
});

describe('Poisson sampling', () => {
  it.each([0.001, 0.01, 0.3, 0.9])('keeps each of the units with probability q = %d', (q) => {
    const rng = seededRng(11);
    const n = 1000;
    const hits = new Array(n).fill(0);
    const rounds = 400;
    let total = 0;
    for (let r = 0; r < rounds; r++) {
      const chosen = poissonSample(n, q, rng);
      total += chosen.length;
      for (const i of chosen) hits[i] += 1;
      expect(chosen).toEqual([...chosen].sort((a, b) => a - b));
      expect(new Set(chosen).size).toBe(chosen.length);
    }
    const expected = n * rounds * q;
    expect(Math.abs(total - expected)).toBeLessThan(5 * Math.sqrt(expected * (1 - q)));
    // No position is favoured: the first and last tenth get their share.
    const share = (from: number, to: number) => hits.slice(from, to).reduce((a, b) => a + b, 0) / total;
    expect(share(0, 100)).toBeGreaterThan(0.1 - 5 * Math.sqrt(0.09 / total));
    expect(share(900, 1000)).toBeGreaterThan(0.1 - 5 * Math.sqrt(0.09 / total));
  });

  it('batch sizes vary, and can be empty', () => {
    const rng = seededRng(5);
    const sizes = Array.from({ length: 300 }, () => poissonSample(100, 0.01, rng).length);
    expect(new Set(sizes).size).toBeGreaterThan(2);
    expect(sizes).toContain(0);
  });

  it('q = 0 keeps nothing and q = 1 keeps everything', () => {
    expect(poissonSample(50, 0, seededRng(1))).toEqual([]);
    expect(poissonSample(5, 1, seededRng(1))).toEqual([0, 1, 2, 3, 4]);
  });

  it.each([-0.1, 1.1, Number.NaN])('refuses q = %d', (q) => {
    expect(() => poissonSample(10, q, seededRng(1))).toThrow(/sampleRate/);
  });
});

describe('privacy units', () => {
  it('groups examples by customer in first-seen order', () => {
    const customers = ['a', 'b', 'a', 'c', 'b', 'a'];
    expect(groupByUnit(customers.length, (i) => customers[i]!)).toEqual([[0, 2, 5], [1, 4], [3]]);
  });

  it('samples whole customers: a sampled customer brings all of their examples, under one unit id', () => {
    const units = [[0, 2, 5], [1, 4], [3]];
    const batch = sampleBatch({ exampleCount: 6, units, sampleRate: 1 }, seededRng(1));
    expect(batch).toEqual({ examples: [0, 2, 5, 1, 4, 3], unitIds: [0, 0, 0, 1, 1, 2], unitCount: 3 });
    const rng = seededRng(9);
    for (let r = 0; r < 50; r++) {
      const partial = sampleBatch({ exampleCount: 6, units, sampleRate: 0.5 }, rng);
      const byUnit = new Map<number, number[]>();
      partial.examples.forEach((example, k) => {
        byUnit.set(partial.unitIds[k]!, [...(byUnit.get(partial.unitIds[k]!) ?? []), example]);
      });
      expect(byUnit.size).toBe(partial.unitCount);
      for (const members of byUnit.values()) expect(units).toContainEqual(members);
    }
  });

  it('without units, every example is its own unit', () => {
    const batch = sampleBatch({ exampleCount: 4, sampleRate: 1 }, seededRng(1));
    expect(batch).toEqual({ examples: [0, 1, 2, 3], unitIds: [0, 1, 2, 3], unitCount: 4 });
  });
});
