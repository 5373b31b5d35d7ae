import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipAndSum, clipFactors, clipPerUnit, unitNorms } from '../../../../../server/privacy/dp/clip.js';
import { sumByUnit } from '../../../../../server/privacy/dp/per-example-grads.js';
import { seededRng } from '../../../../../server/privacy/dp/rng.js';
import { expectNoLeak, take, useCpuBackend } from './tensors.js';

beforeAll(useCpuBackend);

/** Stacked per-unit gradients for two variables: a [units, 3] matrix part and a [units] bias part. */
function grads(rows: number[][]): tf.Tensor[] {
  return [tf.tensor2d(rows.map((r) => r.slice(0, 3))), tf.tensor1d(rows.map((r) => r[3]!))];
}

const norm = (row: number[]) => Math.sqrt(row.reduce((a, b) => a + b * b, 0));

describe('per-unit clipping', () => {
  it('measures the global norm of each unit over all variables', async () => {
    await expectNoLeak(() => {
      const g = grads([
        [3, 0, 0, 4],
        [1, 2, 2, 0],
        [0, 0, 0, 0],
      ]);
      expect(take(unitNorms(g))).toEqual([5, 3, 0]);
      tf.dispose(g);
    });
  });

  it.each([0.1, 1, 2.5, 10])('bounds every unit by C = %d, in every direction', async (clipNorm) => {
    await expectNoLeak(() => {
      const rng = seededRng(clipNorm * 100);
      const rows = Array.from({ length: 20 }, (_, i) =>
        Array.from({ length: 4 }, () => (rng.next() * 2 - 1) * 2 ** (i % 6)),
      );
      const g = grads(rows);
      const clipped = clipPerUnit(g, clipNorm);
      const norms = take(unitNorms(clipped));
      norms.forEach((n, i) => {
        expect(n).toBeLessThanOrEqual(clipNorm * (1 + 1e-6));
        // Below the bound nothing changes; above it, the norm lands on C and the direction is kept.
        if (norm(rows[i]!) <= clipNorm) expect(n).toBeCloseTo(norm(rows[i]!), 5);
        else expect(n).toBeCloseTo(clipNorm, 4);
      });
      const first = clipped.map((t) => Array.from(t.dataSync()));
      const scale = Math.min(1, clipNorm / (norm(rows[0]!) + 1e-6));
      expect(first[0]!.slice(0, 3)).toEqual(rows[0]!.slice(0, 3).map((v) => expect.closeTo(v * scale, 5)));
      tf.dispose([...g, ...clipped]);
    });
  });

  it('leaves a zero gradient at zero', async () => {
    await expectNoLeak(() => {
      const factors = tf.tensor1d([0]);
      expect(take(clipFactors(factors, 1))).toEqual([1]);
      factors.dispose();
    });
  });

  it('a batch of k identical examples sums to k times one clipped example', async () => {
    await expectNoLeak(() => {
      const example = [3, -1, 2, 5];
      const one = grads([example]);
      const many = grads(Array.from({ length: 7 }, () => example));
      const single = clipAndSum(one, 1.5).map((t) => take(t));
      const summed = clipAndSum(many, 1.5).map((t) => take(t));
      summed.forEach((values, k) => {
        values.forEach((v, i) => {
          expect(v).toBeCloseTo(7 * single[k]![i]!, 5);
        });
      });
      expect(norm(single.flat())).toBeCloseTo(1.5, 5);
      tf.dispose([...one, ...many]);
    });
  });

  it.each([0, -1, Number.NaN, Infinity])('refuses C = %d', async (clipNorm) => {
    await expectNoLeak(() => {
      const g = grads([[1, 1, 1, 1]]);
      expect(() => clipAndSum(g, clipNorm)).toThrow(/clipNorm/);
      tf.dispose(g);
    });
  });
});

describe('customer-level units', () => {
  it("sums a customer's examples before clipping, so the customer as a whole is bounded by C", async () => {
    await expectNoLeak(() => {
      // Customer 0 has three examples of norm 5 each; customer 1 one small example.
      const examples = grads([
        [3, 0, 0, 4],
        [3, 0, 0, 4],
        [0, 3, 4, 0],
        [0.1, 0, 0, 0],
      ]);
      const units = sumByUnit(examples, [0, 0, 0, 1], 2);
      expect(units.map((t) => t.shape)).toEqual([[2, 3], [2]]);
      const unitNormValues = take(unitNorms(units));
      expect(unitNormValues[0]).toBeCloseTo(norm([6, 3, 4, 8]), 5);
      const customerSum = clipAndSum(units, 1).map((t) => take(t));
      const exampleSum = clipAndSum(examples, 1).map((t) => take(t));
      // Per customer the sum has norm ≤ 1 + 0.1; per example it would be up to 3 + 0.1.
      expect(norm(customerSum.flat())).toBeLessThanOrEqual(1.1 + 1e-6);
      expect(norm(exampleSum.flat())).toBeGreaterThan(2);
      tf.dispose([...examples, ...units]);
    });
  });
});
