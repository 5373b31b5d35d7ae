/**
 * Rényi DP of the Poisson-subsampled Gaussian mechanism (Mironov 2017; Mironov, Talwar, Zhang
 * 2019, section 3.3) and its conversion to (ε, δ) (Balle et al. 2020, Theorem 21). A faithful port
 * of Opacus' opacus/accountants/analysis/rdp.py, itself from TF Privacy: same series, same
 * stopping rule, same handling of q = 0, q = 1, σ = 0, infinite orders and NaN.
 */
import { logErfc } from './erfc.js';
import { logAdd, logSub } from './log-space.js';

/** Opacus' default orders: 1.1, 1.2, …, 10.9, then 12, 13, …, 63. */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, x) => 12 + x),
]);

const LOG_HALF = Math.log(0.5);

const logBinomialRows = new Map<number, number[]>();

/** log of a positive BigInt, also beyond the range of a double. */
function logBig(n: bigint): number {
  const bits = n.toString(2).length;
  if (bits < 1000) return Math.log(Number(n));
  const shift = bits - 64;
  return Math.log(Number(n >> BigInt(shift))) + shift * Math.LN2;
}

/** log C(n, i) for i = 0..n, from exact integers. */
function logBinomials(n: number): number[] {
  let row = logBinomialRows.get(n);
  if (!row) {
    row = [];
    let c = 1n;
    for (let i = 0; i <= n; i++) {
      row.push(logBig(c));
      c = (c * BigInt(n - i)) / BigInt(i + 1);
    }
    logBinomialRows.set(n, row);
  }
  return row;
}

/** log A_α for integer α: a finite sum, exact up to rounding. */
export function logAForIntegerOrder(q: number, sigma: number, alpha: number): number {
  const logCoef = logBinomials(alpha);
  let logA = Number.NEGATIVE_INFINITY;
  for (let i = 0; i <= alpha; i++) {
    const logCoefI = logCoef[i]! + i * Math.log(q) + (alpha - i) * Math.log(1 - q);
    logA = logAdd(logA, logCoefI + (i * i - i) / (2 * sigma ** 2));
  }
  return logA;
}

/**
 * log A_α for fractional α: the two halves of the integral split at z0, each a series in the
 * generalized binomial coefficients, summed in log space until the terms fall below e^-30.
 */
export function logAForFractionalOrder(q: number, sigma: number, alpha: number): number {
  let logA0 = Number.NEGATIVE_INFINITY;
  let logA1 = Number.NEGATIVE_INFINITY;
  const z0 = sigma ** 2 * Math.log(1 / q - 1) + 0.5;
  const scale = Math.sqrt(2) * sigma;
  let coef = 1;
  for (let i = 0; ; i++) {
    if (i > 0) coef = (coef * (alpha - i + 1)) / i;
    const logCoef = Math.log(Math.abs(coef));
    const j = alpha - i;
    const logT0 = logCoef + i * Math.log(q) + j * Math.log(1 - q);
    const logT1 = logCoef + j * Math.log(q) + i * Math.log(1 - q);
    const logE0 = LOG_HALF + logErfc((i - z0) / scale);
    const logE1 = LOG_HALF + logErfc((z0 - j) / scale);
    const logS0 = logT0 + (i * i - i) / (2 * sigma ** 2) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma ** 2) + logE1;
    if (coef > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

/** RDP of one step at order α; can be Infinity. */
export function rdpOfStep(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0) return Number.POSITIVE_INFINITY;
  if (q === 1) return alpha / (2 * sigma ** 2);
  if (alpha === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  const logA = Number.isInteger(alpha)
    ? logAForIntegerOrder(q, sigma, alpha)
    : logAForFractionalOrder(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** RDP of `steps` steps at each order (RDP composes by adding). */
export function computeRdp(
  q: number,
  noiseMultiplier: number,
  steps: number,
  orders: readonly number[],
): number[] {
  return orders.map((alpha) => rdpOfStep(q, noiseMultiplier, alpha) * steps);
}

export interface RdpSpent {
  epsilon: number;
  /** The order that gives the smallest ε; NaN when every order gives NaN. */
  alpha: number;
}

/**
 * The smallest ε over the orders for a target δ, by Balle et al. 2020, Theorem 21:
 * ε = rdp − (log δ + log α)/(α − 1) + log((α − 1)/α). NaNs are skipped; all NaN means no privacy.
 */
export function rdpToEpsilon(orders: readonly number[], rdp: readonly number[], delta: number): RdpSpent {
  if (orders.length !== rdp.length) {
    throw new RangeError(`orders and rdp must have the same length (${orders.length} vs ${rdp.length})`);
  }
  let best = -1;
  let bestEpsilon = Number.NaN;
  for (let k = 0; k < orders.length; k++) {
    const alpha = orders[k]!;
    const epsilon =
      rdp[k]! - (Math.log(delta) + Math.log(alpha)) / (alpha - 1) + Math.log((alpha - 1) / alpha);
    if (Number.isNaN(epsilon)) continue;
    if (best === -1 || epsilon < bestEpsilon) {
      best = k;
      bestEpsilon = epsilon;
    }
  }
  if (best === -1) return { epsilon: Number.POSITIVE_INFINITY, alpha: Number.NaN };
  return { epsilon: bestEpsilon, alpha: orders[best]! };
}
