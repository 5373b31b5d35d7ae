import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalCdf } from '../../../../../server/privacy/dp/erfc.js';
import { addGaussianNoise, gaussianNoise } from '../../../../../server/privacy/dp/noise.js';
import { seededRng } from '../../../../../server/privacy/dp/rng.js';
import { expectNoLeak, take, useCpuBackend } from './tensors.js';

beforeAll(useCpuBackend);

function moments(values: number[]) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { n, mean, std };
}

describe('Gaussian noise', () => {
  it.each([
    [1, 1, 7],
    [0.5, 2, 8],
    [1.3, 0.1, 9],
    [4, 1, 10],
  ])('has std σC on every coordinate (σ = %d, C = %d, seed %d)', async (noiseMultiplier, clipNorm, seed) => {
    await expectNoLeak(() => {
      const zeros = [tf.zeros([200, 100]), tf.zeros([5000])];
      const noisy = addGaussianNoise(zeros, { noiseMultiplier, clipNorm, rng: seededRng(seed) });
      const values = noisy.flatMap((t) => take(t));
      const { n, mean, std } = moments(values);
      const target = noiseMultiplier * clipNorm;
      // 4 standard errors: for the mean σC/√n, for the std about σC/√(2n).
      expect(Math.abs(mean)).toBeLessThan((4 * target) / Math.sqrt(n));
      expect(Math.abs(std - target)).toBeLessThan((4 * target) / Math.sqrt(2 * n));
      // And it is Gaussian-shaped: the share within 1 and 2 std matches Φ.
      for (const k of [1, 2]) {
        const within = values.filter((v) => Math.abs(v) <= k * target).length / n;
        const expected = normalCdf(k) - normalCdf(-k);
        expect(Math.abs(within - expected)).toBeLessThan(4 * Math.sqrt((expected * (1 - expected)) / n));
      }
      tf.dispose(zeros);
    });
  });

  it('a wrong std is caught: the test statistic rejects a std off by 2%', async () => {
    await expectNoLeak(() => {
      const { n, std } = moments(take(gaussianNoise([100_000], 1.02, seededRng(7))));
      expect(Math.abs(std - 1)).toBeGreaterThan((4 * 1) / Math.sqrt(2 * n));
    });
  });

  it('is added to the sum, not replacing it', async () => {
    await expectNoLeak(() => {
      const sum = [tf.fill([20_000], 3)];
      const [noisy] = addGaussianNoise(sum, { noiseMultiplier: 0.5, clipNorm: 1, rng: seededRng(2) });
      const { mean } = moments(take(noisy!));
      expect(Math.abs(mean - 3)).toBeLessThan((4 * 0.5) / Math.sqrt(20_000));
      tf.dispose(sum);
    });
  });

  it('the same seed gives the same noise, another seed other noise', async () => {
    await expectNoLeak(() => {
      const sum = [tf.zeros([10])];
      const draw = (seed: number) =>
        take(addGaussianNoise(sum, { noiseMultiplier: 1, clipNorm: 1, rng: seededRng(seed) })[0]!);
      expect(draw(1)).toEqual(draw(1));
      expect(draw(1)).not.toEqual(draw(2));
      tf.dispose(sum);
    });
  });

  it('σ = 0 adds nothing; a negative σ is refused', async () => {
    await expectNoLeak(() => {
      const sum = [tf.tensor1d([1, 2, 3])];
      expect(take(addGaussianNoise(sum, { noiseMultiplier: 0, clipNorm: 1, rng: seededRng(1) })[0]!)).toEqual(
        [1, 2, 3],
      );
      expect(() => addGaussianNoise(sum, { noiseMultiplier: -1, clipNorm: 1, rng: seededRng(1) })).toThrow(
        /noiseMultiplier/,
      );
      tf.dispose(sum);
    });
  });
});
