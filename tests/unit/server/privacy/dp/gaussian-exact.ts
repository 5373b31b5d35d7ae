/**
 * The exact privacy curve of the (non-subsampled) Gaussian mechanism, Balle and Wang 2018,
 * Theorem 8: with sensitivity Δ and noise std s, δ(ε) = Φ(Δ/2s − εs/Δ) − e^ε Φ(−Δ/2s − εs/Δ).
 * T composed steps with std σ are one Gaussian with std σ/√T. Computed here, independently of the
 * accountants, as ground truth for q = 1.
 */
import { logErfc, normalCdf } from '../../../../../server/privacy/dp/erfc.js';

const logNormalCdf = (x: number) => Math.log(0.5) + logErfc(-x / Math.SQRT2);

export function exactGaussianDelta(epsilon: number, noiseStd: number, sensitivity = 1): number {
  const a = sensitivity / (2 * noiseStd);
  const b = (epsilon * noiseStd) / sensitivity;
  return normalCdf(a - b) - Math.exp(epsilon + logNormalCdf(-a - b));
}

/** The smallest ε with δ(ε) ≤ delta for `steps` composed Gaussian steps of noise multiplier σ. */
export function exactGaussianEpsilon(noiseMultiplier: number, steps: number, delta: number): number {
  const std = noiseMultiplier / Math.sqrt(steps);
  if (exactGaussianDelta(0, std) <= delta) return 0;
  let low = 0;
  let high = 1;
  while (exactGaussianDelta(high, std) > delta) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    const middle = (low + high) / 2;
    if (exactGaussianDelta(middle, std) > delta) low = middle;
    else high = middle;
  }
  return high;
}

/**
 * One step of the Poisson-subsampled Gaussian, exactly: for P = (1 − q)N(0, σ²) + qN(1, σ²) against
 * Q = N(0, σ²), the loss exceeds ε beyond x_ε = σ² log((e^ε − 1 + q)/q) + 1/2, so
 * δ(ε) = P(X > x_ε) − e^ε Q(X > x_ε).
 */
export function exactSubsampledGaussianDelta(
  epsilon: number,
  noiseMultiplier: number,
  sampleRate: number,
): number {
  const q = sampleRate;
  const sigma = noiseMultiplier;
  const x = sigma ** 2 * Math.log((Math.exp(epsilon) - 1 + q) / q) + 0.5;
  const tail = (y: number) => 1 - normalCdf(y);
  return (1 - q) * tail(x / sigma) + q * tail((x - 1) / sigma) - Math.exp(epsilon) * tail(x / sigma);
}

export function exactSubsampledGaussianEpsilon(
  noiseMultiplier: number,
  sampleRate: number,
  delta: number,
): number {
  let low = 0;
  let high = 1;
  while (exactSubsampledGaussianDelta(high, noiseMultiplier, sampleRate) > delta) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    const middle = (low + high) / 2;
    if (exactSubsampledGaussianDelta(middle, noiseMultiplier, sampleRate) > delta) low = middle;
    else high = middle;
  }
  return high;
}
