import { describe, expect, it } from 'vitest';
import { ropeInverseFrequencies } from '../../../../server/ml/architectures/rope.js';

const scaling = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 };

describe('ropeInverseFrequencies', () => {
  it('is theta^(-2j/d) without scaling', () => {
    const frequencies = ropeInverseFrequencies(8, 10_000, null);
    [1, 0.1, 0.01, 0.001].forEach((expected, j) => {
      expect(frequencies[j]).toBeCloseTo(expected, 15);
    });
  });

  it('keeps short wavelengths, divides long ones by the factor and interpolates between (Llama 3)', () => {
    const plain = ropeInverseFrequencies(8, 10_000, null);
    const scaled = ropeInverseFrequencies(8, 10_000, scaling);
    // wavelengths 2π/f: 6.3 (< 64/4: kept), 62.8 (between 16 and 64: mixed), 628 and 6283 (> 64: divided)
    expect(scaled[0]).toBe(plain[0]);
    const smooth = (64 / ((2 * Math.PI) / plain[1]!) - 1) / (4 - 1);
    expect(scaled[1]).toBeCloseTo((1 - smooth) * (plain[1]! / 8) + smooth * plain[1]!, 15);
    expect(scaled[1]!).toBeLessThan(plain[1]!);
    expect(scaled[1]!).toBeGreaterThan(plain[1]! / 8);
    expect(scaled[2]).toBeCloseTo(plain[2]! / 8, 15);
    expect(scaled[3]).toBeCloseTo(plain[3]! / 8, 15);
  });
});
