import { describe, expect, it } from 'vitest';
import { erfc, logErfc, normalCdf } from '../../../../../server/privacy/dp/erfc.js';
import { logAdd, logSub } from '../../../../../server/privacy/dp/log-space.js';

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);

// Reference values from mpmath at 40 digits.
describe('erfc', () => {
  it.each([
    [-3, 1.9999779095030015],
    [-1, 1.842700792949715],
    [-0.25, 1.276326390168237],
    [0, 1],
    [0.25, 0.7236736098317631],
    [0.46875, 0.507386526782062],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [2, 0.004677734981047266],
    [4, 1.541725790028002e-8],
    [5, 1.537459794428035e-12],
    [10, 2.088487583762545e-45],
    [26, 5.663192408856143e-296],
  ])('erfc(%d) is right to 1e-14 relative', (x, expected) => {
    expect(relativeError(erfc(x), expected)).toBeLessThan(1e-14);
  });

  it.each([
    [0.3, -0.3984300514400853],
    [1, -1.8496055099332482],
    [5, -27.200889545537436],
    [20, -403.56934333410425],
    [27, -732.8688865078974],
    [30, -903.9741171106439],
    [100, -10005.177585122665],
    [1000, -1000007.4801207219],
  ])('log erfc(%d) stays accurate where erfc underflows', (x, expected) => {
    expect(relativeError(logErfc(x), expected)).toBeLessThan(1e-14);
  });

  it('underflows to 0 only beyond the double range, while its log stays finite', () => {
    expect(erfc(30)).toBe(0);
    expect(Number.isFinite(logErfc(30))).toBe(true);
    expect(logErfc(Number.POSITIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(erfc(Number.NEGATIVE_INFINITY)).toBe(2);
    expect(erfc(Number.NaN)).toBeNaN();
  });

  it('gives the standard normal CDF', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(relativeError(normalCdf(1.959963984540054), 0.975)).toBeLessThan(1e-14);
    expect(relativeError(normalCdf(-1.959963984540054), 0.025)).toBeLessThan(1e-13);
  });
});

describe('log-space arithmetic', () => {
  it.each([
    [Math.log(2), Math.log(3), Math.log(5)],
    [Number.NEGATIVE_INFINITY, Math.log(7), Math.log(7)],
    [-1000, -1000, -1000 + Math.LN2],
    [800, 0, 800],
  ])('logAdd(%d, %d) = %d', (x, y, expected) => {
    expect(logAdd(x, y)).toBeCloseTo(expected, 12);
    expect(logAdd(y, x)).toBeCloseTo(expected, 12);
  });

  it.each([
    [Math.log(5), Math.log(3), Math.log(2)],
    [Math.log(7), Number.NEGATIVE_INFINITY, Math.log(7)],
    [-1000, -1000 - Math.LN2, -1000 - Math.LN2],
    [1000, 1, 1000],
  ])('logSub(%d, %d) = %d', (x, y, expected) => {
    expect(logSub(x, y)).toBeCloseTo(expected, 12);
  });

  it('represents an exact zero difference as -Infinity and refuses a negative one', () => {
    expect(logSub(3, 3)).toBe(Number.NEGATIVE_INFINITY);
    expect(() => logSub(2, 3)).toThrow(/non-negative/);
  });
});
