/** Arithmetic on numbers kept as their logarithms; -Infinity stands for 0. */

/** log(e^x + e^y). */
export function logAdd(logx: number, logy: number): number {
  const a = Math.min(logx, logy);
  const b = Math.max(logx, logy);
  if (a === Number.NEGATIVE_INFINITY) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/** log(e^x - e^y); throws when the difference would be negative. */
export function logSub(logx: number, logy: number): number {
  if (logx < logy) throw new RangeError('logSub: the result of the subtraction must be non-negative');
  if (logy === Number.NEGATIVE_INFINITY) return logx;
  if (logx === logy) return Number.NEGATIVE_INFINITY;
  const diff = Math.expm1(logx - logy);
  // Python's math.expm1 raises OverflowError here and Opacus then returns logx; keep that behaviour.
  if (diff === Number.POSITIVE_INFINITY) return logx;
  return Math.log(diff) + logy;
}
