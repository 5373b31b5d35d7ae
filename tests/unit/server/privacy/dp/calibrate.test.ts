import { describe, expect, it } from 'vitest';
import { noiseForTarget, UnreachableTargetError } from '../../../../../server/privacy/dp/calibrate.js';
import { RdpAccountant } from '../../../../../server/privacy/dp/rdp-accountant.js';

function epsilonAt(noiseMultiplier: number, sampleRate: number, steps: number, delta: number): number {
  const accountant = new RdpAccountant();
  accountant.step({ noiseMultiplier, sampleRate }, steps);
  return accountant.getEpsilon(delta);
}

describe('noiseForTarget', () => {
  it.each([
    [1, 1e-5, 0.01, 10_000],
    [3, 1e-5, 256 / 60_000, 14_100],
    [8, 1e-6, 0.02, 500],
    [0.5, 1e-5, 0.001, 1000],
    [10, 1e-5, 1, 1],
    [2, 1e-5, 1, 100],
  ])(
    'ε = %d, δ = %d, q = %d, %d steps: the smallest σ within 1% that meets the target',
    (targetEpsilon, delta, sampleRate, steps) => {
      const { noiseMultiplier, epsilon } = noiseForTarget({ targetEpsilon, delta, sampleRate, steps });
      expect(epsilon).toBe(epsilonAt(noiseMultiplier, sampleRate, steps, delta));
      expect(epsilon).toBeLessThanOrEqual(targetEpsilon);
      expect(epsilonAt(noiseMultiplier / 1.01, sampleRate, steps, delta)).toBeGreaterThan(targetEpsilon);
    },
  );

  it('recovers the σ it was given: the target ε of σ = 4 in the Abadi et al. setting gives σ ≈ 4', () => {
    const targetEpsilon = epsilonAt(4, 0.01, 10_000, 1e-5);
    const { noiseMultiplier } = noiseForTarget({
      targetEpsilon,
      delta: 1e-5,
      sampleRate: 0.01,
      steps: 10_000,
    });
    expect(noiseMultiplier).toBeGreaterThanOrEqual(4);
    expect(noiseMultiplier).toBeLessThanOrEqual(4 * 1.01);
  });

  it('says so when no noise reaches the target (the conversion alone costs more)', () => {
    const target = { targetEpsilon: 0.05, delta: 1e-5, sampleRate: 0.01, steps: 100 };
    expect(() => noiseForTarget(target)).toThrow(UnreachableTargetError);
    expect(() => noiseForTarget(target)).toThrow(/ε = 0.05 is unreachable at δ = 0.00001/);
  });

  it.each([
    [{ targetEpsilon: 0, delta: 1e-5, sampleRate: 0.01, steps: 10 }, /target epsilon/],
    [{ targetEpsilon: -1, delta: 1e-5, sampleRate: 0.01, steps: 10 }, /target epsilon/],
    [{ targetEpsilon: Infinity, delta: 1e-5, sampleRate: 0.01, steps: 10 }, /target epsilon/],
    [{ targetEpsilon: 1, delta: 0, sampleRate: 0.01, steps: 10 }, /delta/],
    [{ targetEpsilon: 1, delta: 1e-5, sampleRate: 0, steps: 10 }, /sampleRate/],
    [{ targetEpsilon: 1, delta: 1e-5, sampleRate: 0.01, steps: 0 }, /steps/],
    [{ targetEpsilon: 1, delta: 1e-5, sampleRate: 0.01, steps: 10, accountant: 'nope' }, /known: rdp/],
  ])('refuses %j', (target, message) => {
    expect(() => noiseForTarget(target)).toThrow(message);
  });
});
