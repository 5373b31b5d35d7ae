import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RdpAccountant } from '../../../../../server/privacy/dp/rdp-accountant.js';
import {
  computeRdp,
  DEFAULT_ORDERS,
  rdpOfStep,
  rdpToEpsilon,
} from '../../../../../server/privacy/dp/rdp-analysis.js';
import { exactGaussianEpsilon } from './gaussian-exact.js';

interface ReferenceCase {
  name: string;
  history: [number, number, number][];
  delta: number;
  orders: number[] | null;
  epsilon: number;
  alpha: number;
  rdp: number[];
}

const fixture: { cases: ReferenceCase[] } = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../../../../fixtures/dp/opacus-rdp-reference.json'), 'utf8'),
);

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);

function epsilonOf(noiseMultiplier: number, sampleRate: number, steps: number, delta: number) {
  const accountant = new RdpAccountant();
  accountant.step({ noiseMultiplier, sampleRate }, steps);
  return accountant.getPrivacySpent(delta);
}

describe('the RDP orders', () => {
  it("are Opacus' defaults: 1.1 … 10.9 by tenths, then 12 … 63", () => {
    expect(DEFAULT_ORDERS).toHaveLength(151);
    expect(DEFAULT_ORDERS.slice(0, 3)).toEqual([1.1, 1.2, 1.3]);
    expect(DEFAULT_ORDERS.slice(97, 101)).toEqual([10.8, 10.9, 12, 13]);
    expect(DEFAULT_ORDERS.at(-1)).toBe(63);
  });
});

describe('RDP of the subsampled Gaussian mechanism against the Opacus reference', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s: same ε to 1e-9 and the same order', (_, c) => {
    const accountant = new RdpAccountant(c.orders ? { orders: c.orders } : {});
    for (const [noiseMultiplier, sampleRate, steps] of c.history) {
      accountant.step({ noiseMultiplier, sampleRate }, steps);
    }
    const spent = accountant.getPrivacySpent(c.delta);
    expect(relativeError(spent.epsilon, c.epsilon)).toBeLessThan(1e-9);
    expect(spent.alpha).toBe(c.alpha);
    // Per order, fractional orders lose a few digits to cancellation in the alternating series.
    accountant.rdp().forEach((rdp, k) => {
      expect(relativeError(rdp, c.rdp[k]!)).toBeLessThan(1e-8);
    });
  });

  it('covers integer and fractional optimal orders, q = 1 and composed histories', () => {
    const alphas = fixture.cases.map((c) => c.alpha);
    expect(alphas.some(Number.isInteger)).toBe(true);
    expect(alphas.some((a) => !Number.isInteger(a))).toBe(true);
    expect(fixture.cases.some((c) => c.history.some(([, q]) => q === 1))).toBe(true);
    expect(fixture.cases.some((c) => c.history.length > 1)).toBe(true);
  });
});

describe('sanity anchors computed by hand', () => {
  it.each([
    [1, 1.5],
    [2, 10],
    [0.7, 3.3],
    [5, 63],
  ])('q = 1 is the plain Gaussian mechanism: RDP = α / (2σ²) per step (σ = %d, α = %d)', (sigma, alpha) => {
    expect(rdpOfStep(1, sigma, alpha)).toBe(alpha / (2 * sigma ** 2));
    expect(computeRdp(1, sigma, 40, [alpha])[0]).toBeCloseTo((40 * alpha) / (2 * sigma ** 2), 10);
  });

  it('subsampling amplifies: RDP with q < 1 is far below the plain Gaussian at the same order', () => {
    expect(rdpOfStep(0.01, 1, 8)).toBeLessThan(rdpOfStep(1, 1, 8) / 100);
    expect(rdpOfStep(0.01, 1, 8.5)).toBeLessThan(rdpOfStep(1, 1, 8.5) / 100);
  });

  it('Abadi et al. (q = 0.01, σ = 4, 10,000 steps, δ = 1e-5): 1.26 with the classic conversion, ≈ 1.04 with Balle et al.', () => {
    const accountant = new RdpAccountant();
    accountant.step({ noiseMultiplier: 4, sampleRate: 0.01 }, 10_000);
    const rdp = accountant.rdp();
    // The moments accountant's conversion, ε = rdp + log(1/δ)/(α − 1), reproduces the paper's 1.26.
    const classic = Math.min(...rdp.map((r, k) => r + Math.log(1e5) / (accountant.orders[k]! - 1)));
    expect(classic).toBeCloseTo(1.26, 2);
    const improved = accountant.getPrivacySpent(1e-5);
    expect(improved.epsilon).toBeCloseTo(1.035, 3);
    expect(improved.epsilon).toBeLessThan(classic);
    expect(improved.alpha).toBe(17);
  });
});

describe('RDP against the exact Gaussian mechanism (q = 1, Balle–Wang)', () => {
  it.each([
    [1, 1, 1e-5],
    [2, 100, 1e-6],
    [0.5, 1, 1e-5],
    [5, 10, 1e-5],
    [1, 1000, 1e-5],
    [20, 1, 1e-5],
    [3, 1, 0.1],
  ])('σ = %d, %d steps, δ = %d: the RDP ε upper-bounds the exact ε', (sigma, steps, delta) => {
    const exact = exactGaussianEpsilon(sigma, steps, delta);
    const rdp = epsilonOf(sigma, 1, steps, delta).epsilon;
    expect(exact).toBeGreaterThan(0);
    expect(rdp).toBeGreaterThanOrEqual(exact);
    if (delta < 1e-3) expect(rdp).toBeLessThan(1.2 * exact);
  });
});

describe('monotonicity', () => {
  const base = { sigma: 1.1, q: 0.01, steps: 1000, delta: 1e-5 };
  const at = (o: Partial<typeof base>) => {
    const p = { ...base, ...o };
    return epsilonOf(p.sigma, p.q, p.steps, p.delta).epsilon;
  };

  it('ε grows with the number of steps', () => {
    const values = [1, 10, 100, 1000, 10_000].map((steps) => at({ steps }));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!);
  });

  it('ε falls as the noise multiplier grows', () => {
    const values = [0.5, 0.8, 1, 2, 4, 8].map((sigma) => at({ sigma }));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThan(values[i - 1]!);
  });

  it('ε grows with the sampling rate', () => {
    const values = [0.001, 0.01, 0.05, 0.2, 0.5, 1].map((q) => at({ q }));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!);
  });

  it('ε falls as δ grows', () => {
    expect(at({ delta: 1e-3 })).toBeLessThan(at({ delta: 1e-5 }));
    expect(at({ delta: 1e-5 })).toBeLessThan(at({ delta: 1e-9 }));
  });
});

describe('edge cases, as Opacus handles them', () => {
  it('q = 0 costs nothing and σ = 0 gives no privacy', () => {
    expect(computeRdp(0, 1, 100, [2, 2.5])).toEqual([0, 0]);
    expect(computeRdp(0.1, 0, 1, [2, 2.5])).toEqual([Infinity, Infinity]);
    expect(epsilonOf(0, 0.1, 1, 1e-5).epsilon).toBe(Infinity);
  });

  it('an infinite order has infinite RDP', () => {
    expect(rdpOfStep(0.5, 1, Infinity)).toBe(Infinity);
  });

  it('skips NaN orders and reports no privacy when every order is NaN', () => {
    expect(rdpToEpsilon([2, 3], [Number.NaN, 1], 1e-5).alpha).toBe(3);
    const none = rdpToEpsilon([2, 3], [Number.NaN, Number.NaN], 1e-5);
    expect(none.epsilon).toBe(Infinity);
    expect(none.alpha).toBeNaN();
  });

  it('refuses orders and RDP values of different lengths', () => {
    expect(() => rdpToEpsilon([2, 3], [1], 1e-5)).toThrow(/same length/);
  });
});
