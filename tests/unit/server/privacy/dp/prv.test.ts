import { describe, expect, it } from 'vitest';
import { normalCdf } from '../../../../../server/privacy/dp/erfc.js';
import { fft } from '../../../../../server/privacy/dp/fft.js';
import { integrate } from '../../../../../server/privacy/dp/integrate.js';
import { PrvAccountant } from '../../../../../server/privacy/dp/prv-accountant.js';
import {
  alignedDomain,
  composeSelf,
  composeTwo,
  discretize,
  prvEpsilon,
  subsampledGaussianPrvCdf,
} from '../../../../../server/privacy/dp/prv-analysis.js';
import { RdpAccountant } from '../../../../../server/privacy/dp/rdp-accountant.js';
import { accountantFromState, createAccountant } from '../../../../../server/privacy/dp/registry.js';
import { seededRng } from '../../../../../server/privacy/dp/rng.js';
import { exactGaussianEpsilon, exactSubsampledGaussianEpsilon } from './gaussian-exact.js';

function rdpEpsilon(noiseMultiplier: number, sampleRate: number, steps: number, delta: number) {
  const accountant = new RdpAccountant();
  accountant.step({ noiseMultiplier, sampleRate }, steps);
  return accountant.getEpsilon(delta);
}

describe('FFT', () => {
  it.each([1, 2, 8, 64])('matches the direct DFT on %d random points and inverts exactly', (n) => {
    const rng = seededRng(n);
    const x = Array.from({ length: n }, () => rng.next() - 0.5);
    const re = Float64Array.from(x);
    const im = new Float64Array(n);
    fft(re, im);
    for (let k = 0; k < n; k++) {
      let sumRe = 0;
      let sumIm = 0;
      x.forEach((v, j) => {
        sumRe += v * Math.cos((-2 * Math.PI * j * k) / n);
        sumIm += v * Math.sin((-2 * Math.PI * j * k) / n);
      });
      expect(re[k]).toBeCloseTo(sumRe, 12);
      expect(im[k]).toBeCloseTo(sumIm, 12);
    }
    fft(re, im, true);
    Array.from(re).forEach((v, j) => {
      expect(v).toBeCloseTo(x[j]!, 14);
    });
  });

  it.each([0, 3, 12])('refuses length %d', (n) => {
    expect(() => fft(new Float64Array(n), new Float64Array(n))).toThrow(/power-of-two/);
  });
});

describe('quadrature', () => {
  it.each([
    ['sin on [0, π]', Math.sin, 0, Math.PI, 2],
    ['e^{-x²} on [-10, 10]', (x: number) => Math.exp(-x * x), -10, 10, Math.sqrt(Math.PI)],
    ['|x| on [-1, 2] (a kink)', Math.abs, -1, 2, 2.5],
    ['a step at 0.3 on [0, 1]', (x: number) => (x < 0.3 ? 0 : 1), 0, 1, 0.7],
  ])('∫ %s', (_, f, a, b, expected) => {
    expect(integrate(f, a, b)).toBeCloseTo(expected, 10);
  });
});

describe('the PRV of the subsampled Gaussian', () => {
  it('with q = 1 is the Gaussian privacy loss N(1/(2σ²), 1/σ²)', () => {
    for (const sigma of [0.5, 1, 3]) {
      for (const t of [-2, 0, 0.1, 1, 5]) {
        expect(subsampledGaussianPrvCdf(1, sigma, t)).toBeCloseTo(
          normalCdf((t - 1 / (2 * sigma ** 2)) * sigma),
          12,
        );
      }
    }
  });

  it.each([0.01, 0.3, 0.9])('is a CDF for q = %d: 0 below log(1 − q), rising to 1', (q) => {
    expect(subsampledGaussianPrvCdf(q, 1, Math.log(1 - q) - 1e-9)).toBe(0);
    const ts = Array.from({ length: 200 }, (_, i) => Math.log(1 - q) + 1e-6 + i * 0.05);
    const values = ts.map((t) => subsampledGaussianPrvCdf(q, 1, t));
    for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]!);
    expect(values[0]).toBeLessThan(1e-3);
    expect(values.at(-1)).toBeCloseTo(1, 12);
  });

  it.each([
    [1, 1],
    [0.2, 0.8],
    [0.01, 2],
  ])('discretized for q = %d, σ = %d, keeps the exact mean E[L] = KL(P‖Q)', (q, sigma) => {
    // Coarse on purpose: placing each cell's mass at its centre moves the mean by much more than 1e-9.
    const prv = discretize(q, sigma, alignedDomain(10, 0.05));
    const mean = prv.pmf.reduce((sum, p, i) => sum + p * (prv.domain.tMin + i * prv.domain.dt), 0);
    const density = (x: number) =>
      ((1 - q) * Math.exp(-(x * x) / (2 * sigma ** 2)) + q * Math.exp(-((x - 1) ** 2) / (2 * sigma ** 2))) /
      (sigma * Math.sqrt(2 * Math.PI));
    const loss = (x: number) => Math.log(1 - q + q * Math.exp((2 * x - 1) / (2 * sigma ** 2)));
    const kl = integrate((x) => density(x) * loss(x), -12 * sigma, 1 + 12 * sigma);
    expect(Math.abs(mean - kl)).toBeLessThan(1e-9);
    expect(prv.pmf.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('self-composition by FFT equals repeated pairwise convolution (the wrap-around lands right)', () => {
    const domain = alignedDomain(6, 0.01);
    const one = discretize(0.1, 1, domain);
    const fourfold = composeSelf(one, 4);
    const pairs = composeTwo(composeTwo(one, one), composeTwo(one, one));
    const threefold = composeSelf(one, 3);
    const chain = composeTwo(composeTwo(one, one), one);
    for (let i = 0; i < domain.size; i += 7) {
      expect(fourfold.pmf[i]).toBeCloseTo(pairs.pmf[i]!, 12);
      expect(threefold.pmf[i]).toBeCloseTo(chain.pmf[i]!, 12);
    }
    expect(fourfold.domain.tMin).toBeCloseTo(pairs.domain.tMin, 12);
    expect(fourfold.pmf.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });
});

describe('PRV ε against exact values', () => {
  it.each([
    [1, 1, 1e-5],
    [2, 100, 1e-6],
    [0.8, 10, 1e-5],
    [5, 50, 1e-3],
  ])('q = 1, σ = %d, %d steps, δ = %d: brackets the exact Gaussian ε within ±0.01', (sigma, steps, delta) => {
    const exact = exactGaussianEpsilon(sigma, steps, delta);
    const { lower, estimate, upper } = prvEpsilon([[sigma, 1, steps]], delta);
    expect(lower).toBeLessThanOrEqual(exact);
    expect(upper).toBeGreaterThanOrEqual(exact);
    expect(upper - lower).toBeLessThan(0.025);
    // The bounds carry the whole error budget: ±0.01 in ε plus δ ± δ/1000.
    expect(upper).toBeGreaterThanOrEqual(estimate + 0.01);
    expect(lower).toBeLessThanOrEqual(estimate - 0.01);
    expect(Math.abs(estimate - exact)).toBeLessThan(1e-3);
  });

  it.each([
    [1, 0.01, 1e-5],
    [0.7, 0.05, 1e-5],
    [2, 0.2, 1e-6],
    [1.2, 0.5, 1e-4],
  ])('one subsampled step, σ = %d, q = %d, δ = %d: brackets the exact ε', (sigma, q, delta) => {
    const exact = exactSubsampledGaussianEpsilon(sigma, q, delta);
    const { lower, estimate, upper } = prvEpsilon([[sigma, q, 1]], delta);
    expect(lower).toBeLessThanOrEqual(exact);
    expect(upper).toBeGreaterThanOrEqual(exact);
    expect(Math.abs(estimate - exact)).toBeLessThan(2e-3);
  });

  it.each([
    [4, 0.01, 10_000, 1e-5],
    [1.1, 256 / 60_000, 14_100, 1e-5],
    [0.8, 0.1, 100, 1e-5],
    [1, 1, 1, 1e-5],
  ])(
    'σ = %d, q = %d, %d steps, δ = %d: tighter than RDP, yet not below the RDP bound by more than RDP’s slack',
    (sigma, q, steps, delta) => {
      const prv = prvEpsilon([[sigma, q, steps]], delta);
      const rdp = rdpEpsilon(sigma, q, steps, delta);
      expect(prv.upper).toBeLessThan(rdp);
      expect(prv.lower).toBeGreaterThan(0.8 * rdp);
    },
  );

  it('composes different phases, in either order', () => {
    const both = prvEpsilon(
      [
        [1, 0.01, 500],
        [2, 0.02, 300],
      ],
      1e-5,
    );
    const reversed = prvEpsilon(
      [
        [2, 0.02, 300],
        [1, 0.01, 500],
      ],
      1e-5,
    );
    expect(both.estimate).toBeCloseTo(reversed.estimate, 6);
    expect(both.estimate).toBeGreaterThan(prvEpsilon([[1, 0.01, 500]], 1e-5).upper);
    const rdp = new RdpAccountant();
    rdp.step({ noiseMultiplier: 1, sampleRate: 0.01 }, 500);
    rdp.step({ noiseMultiplier: 2, sampleRate: 0.02 }, 300);
    expect(both.upper).toBeLessThan(rdp.getEpsilon(1e-5));
  });

  it('refuses a δ too small for the mesh, and a mesh too large to hold', () => {
    expect(() => prvEpsilon([[1, 0.01, 1000]], 1e-12)).toThrow(/too small for a PRV mesh/);
    expect(() => prvEpsilon([[0.05, 0.5, 100_000]], 1e-5)).toThrow(/use the rdp accountant/);
  });
});

describe('the PRV accountant', () => {
  it('is registered as "prv", reports no order, and keeps Opacus-style history', () => {
    const accountant = createAccountant('prv');
    expect(accountant).toBeInstanceOf(PrvAccountant);
    accountant.step({ noiseMultiplier: 1, sampleRate: 0.01 }, 10);
    accountant.step({ noiseMultiplier: 1, sampleRate: 0.01 });
    expect(accountant.history).toEqual([[1, 0.01, 11]]);
    const spent = accountant.getPrivacySpent(1e-5);
    expect(spent.alpha).toBeNull();
    expect(spent.epsilon).toBe(prvEpsilon([[1, 0.01, 11]], 1e-5).upper);
  });

  it('has spent nothing before its first step', () => {
    expect(new PrvAccountant().getPrivacySpent(1e-5)).toEqual({ epsilon: 0, alpha: null });
  });

  it('round-trips its state', () => {
    const accountant = new PrvAccountant();
    accountant.step({ noiseMultiplier: 1.3, sampleRate: 0.02 }, 40);
    const restored = accountantFromState(JSON.parse(JSON.stringify(accountant.state())));
    expect(restored).toBeInstanceOf(PrvAccountant);
    expect(restored.getEpsilon(1e-5)).toBe(accountant.getEpsilon(1e-5));
    expect(() => accountantFromState({ accountant: 'prv', history: [[0, 0.1, 1]] })).toThrow(
      /PRV accountant state/,
    );
  });

  it.each([
    [{ noiseMultiplier: 0, sampleRate: 0.1 }, /noiseMultiplier > 0/],
    [{ noiseMultiplier: 1, sampleRate: 0 }, /sampleRate > 0/],
    [{ noiseMultiplier: 1, sampleRate: 2 }, /sampleRate must be in/],
  ])('refuses the step %j', (step, message) => {
    expect(() => new PrvAccountant().step(step)).toThrow(message);
  });
});
