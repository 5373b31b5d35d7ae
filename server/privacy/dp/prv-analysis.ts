/**
 * Privacy loss random variables (Gopi, Lee, Wutschitz 2021, "Numerical Composition of Differential
 * Privacy"), after Opacus' opacus/accountants/analysis/prv/: the PRV of the Poisson-subsampled
 * Gaussian is truncated to a safe domain, discretized on a fine mesh with its mean preserved,
 * composed by FFT, and ε is read off the composed PMF with an error bound.
 *
 * One difference from Opacus: the mesh has a power-of-two number of points (the domain is widened
 * to fit), so a radix-2 FFT serves; a wider domain only truncates less.
 */
import type { HistoryEntry } from './accountant.js';
import { erfc } from './erfc.js';
import { fft, nextPowerOfTwo } from './fft.js';
import { integrate } from './integrate.js';
import { RdpAccountant } from './rdp-accountant.js';

/**
 * CDF of the privacy loss log(P(x)/Q(x)), x ~ P, for P = (1 − q)N(0, σ²) + qN(1, σ²) and
 * Q = N(0, σ²) (Gopi et al., Proposition B.4).
 */
export function subsampledGaussianPrvCdf(q: number, sigma: number, t: number): number {
  if (!(t > Math.log(1 - q))) return 0;
  const z = Math.log((Math.exp(t) + q - 1) / q);
  const scale = 2 * Math.SQRT2 * sigma;
  return (
    1 -
    (q * erfc((2 * z * sigma ** 2 - 1) / scale)) / 2 -
    ((1 - q) * erfc((2 * z * sigma ** 2 + 1) / scale)) / 2
  );
}

/** An evenly spaced mesh t_i = tMin + i·dt, i = 0 … size − 1, with tMin = −(size/2 − 1)·dt before shifts. */
export interface Domain {
  tMin: number;
  dt: number;
  size: number;
  /** Total shift applied to keep means right; composition shifts by it again. */
  shifts: number;
}

const at = (domain: Domain, i: number) => domain.tMin + i * domain.dt;

/** 2^24 points: about 130 MB per array, and a few arrays live at once. */
export const MAX_MESH_POINTS = 2 ** 24;

/** A mesh of spacing dt covering [−L, L], with a power-of-two number of points. */
export function alignedDomain(halfWidth: number, dt: number): Domain {
  const points = 2 * Math.ceil(halfWidth / dt) + 2;
  if (!(points <= MAX_MESH_POINTS)) {
    throw new RangeError(
      `the PRV accountant would need a mesh of ${points.toPrecision(3)} points here (ε is large); use the rdp accountant`,
    );
  }
  const size = nextPowerOfTwo(points);
  return { tMin: -(size / 2 - 1) * dt, dt, size, shifts: 0 };
}

const shifted = (domain: Domain, by: number): Domain => ({
  ...domain,
  tMin: domain.tMin + by,
  shifts: domain.shifts + by,
});

/** Half-width that keeps the truncated mass within the error budget (Gopi et al., Remark 5.6). */
export function safeDomainHalfWidth(
  history: readonly HistoryEntry[],
  epsError: number,
  deltaError: number,
): number {
  const total = history.reduce((sum, [, , steps]) => sum + steps, 0);
  const all = new RdpAccountant();
  for (const [noiseMultiplier, sampleRate, steps] of history)
    all.step({ noiseMultiplier, sampleRate }, steps);
  let width = all.getEpsilon(deltaError / 4);
  for (const [noiseMultiplier, sampleRate] of history) {
    const one = new RdpAccountant();
    one.step({ noiseMultiplier, sampleRate });
    width = Math.max(width, one.getEpsilon(deltaError / (8 * total)));
  }
  return Math.max(width, epsError) + 3;
}

export interface DiscretePrv {
  pmf: Float64Array;
  domain: Domain;
}

/** The PRV truncated to the domain, as the PMF of its mesh cells, shifted so its mean is exact. */
export function discretize(q: number, sigma: number, domain: Domain): DiscretePrv {
  const tMax = at(domain, domain.size - 1);
  const low = subsampledGaussianPrvCdf(q, sigma, domain.tMin);
  const mass = subsampledGaussianPrvCdf(q, sigma, tMax) - low;
  const cdf = (t: number) =>
    t < domain.tMin ? 0 : t < tMax ? (subsampledGaussianPrvCdf(q, sigma, t) - low) / mass : 1;

  const pmf = new Float64Array(domain.size);
  let discreteMean = 0;
  let previous = cdf(domain.tMin - domain.dt / 2);
  for (let i = 0; i < domain.size; i++) {
    const next = cdf(at(domain, i) + domain.dt / 2);
    pmf[i] = next - previous;
    discreteMean += at(domain, i) * pmf[i]!;
    previous = next;
  }
  // E[X] = ∫ t dF = [tF] − ∫ F dt, piecewise, with breakpoints where F changes fastest.
  const inner = [0.1, 0.01, 0.001, 1e-4, 1e-5];
  const points = [domain.tMin, ...inner.map((x) => -x), ...inner.toReversed(), tMax];
  let mean = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const [left, right] = [points[k]!, points[k + 1]!];
    mean += right * cdf(right) - left * cdf(left) - integrate(cdf, left, right);
  }
  const shift = mean - discreteMean;
  if (Math.abs(shift) >= domain.dt / 2) {
    throw new RangeError(
      'PRV discretization failed: the discrete mean differs from the continuous one by half a mesh cell',
    );
  }
  return { pmf, domain: shifted(domain, shift) };
}

/** n-fold self-composition: the PMF's n-th convolution power through the FFT (circular on the mesh). */
export function composeSelf(prv: DiscretePrv, times: number): DiscretePrv {
  const n = prv.pmf.length;
  const re = Float64Array.from(prv.pmf);
  const im = new Float64Array(n);
  fft(re, im);
  for (let k = 0; k < n; k++) {
    const radius = Math.hypot(re[k]!, im[k]!) ** times;
    const angle = Math.atan2(im[k]!, re[k]!) * times;
    re[k] = radius * Math.cos(angle);
    im[k] = radius * Math.sin(angle);
  }
  fft(re, im, true);
  // Index i holds t = (i − (n/2 − 1))·dt; the sum of `times` such offsets wraps back onto the mesh
  // after a rotation by (times − 1)(1 − n/2) mod n.
  const roll = times - 1 + (times % 2 === 0 ? n / 2 : 0);
  const pmf = new Float64Array(n);
  for (let i = 0; i < n; i++) pmf[(i + roll) % n] = re[i]!;
  return { pmf, domain: shifted(prv.domain, prv.domain.shifts * (times - 1)) };
}

/** Linear convolution of two PRVs on the same mesh, keeping the central part (scipy's mode "same"). */
export function composeTwo(left: DiscretePrv, right: DiscretePrv): DiscretePrv {
  const n = left.pmf.length;
  const size = nextPowerOfTwo(2 * n);
  const [ar, ai, br, bi] = [
    new Float64Array(size),
    new Float64Array(size),
    new Float64Array(size),
    new Float64Array(size),
  ];
  ar.set(left.pmf);
  br.set(right.pmf);
  fft(ar, ai);
  fft(br, bi);
  for (let k = 0; k < size; k++) {
    const re = ar[k]! * br[k]! - ai[k]! * bi[k]!;
    ai[k] = ar[k]! * bi[k]! + ai[k]! * br[k]!;
    ar[k] = re;
  }
  fft(ar, ai, true);
  return { pmf: ar.slice(n / 2 - 1, n / 2 - 1 + n), domain: shifted(left.domain, right.domain.shifts) };
}

/** Composes each entry's self-composition, then pairs neighbours until one PRV is left. */
export function composeHeterogeneous(prvs: DiscretePrv[], times: number[]): DiscretePrv {
  let level = prvs.map((prv, k) => composeSelf(prv, times[k]!));
  while (level.length > 1) {
    const next: DiscretePrv[] = [];
    if (level.length % 2 === 1) next.push(level.pop()!);
    for (let k = 0; k + 1 < level.length; k += 2) next.push(composeTwo(level[k]!, level[k + 1]!));
    level = next;
  }
  return level[0]!;
}

export interface EpsilonBounds {
  lower: number;
  estimate: number;
  upper: number;
}

/** ε for a target δ from the composed PMF: δ(ε) = Σ_{t ≥ ε} p(t)(1 − e^{ε − t}), with error bars. */
export function epsilonFromPrv(
  prv: DiscretePrv,
  delta: number,
  deltaError: number,
  epsError: number,
): EpsilonBounds {
  const { pmf, domain } = prv;
  const n = pmf.length;
  if (Number.EPSILON * n > delta - deltaError) {
    throw new RangeError(
      `δ = ${delta} is too small for a PRV mesh of ${n} points (floating-point error would dominate); use a larger δ or the rdp accountant`,
    );
  }
  const d1 = new Float64Array(n);
  const d2 = new Float64Array(n);
  const negativeDelta = new Float64Array(n);
  let tail1 = 0;
  let tail2 = 0;
  for (let i = n - 1; i >= 0; i--) {
    const t = at(domain, i);
    tail1 += pmf[i]!;
    tail2 += pmf[i]! * Math.exp(-t);
    d1[i] = tail1;
    d2[i] = tail2;
    negativeDelta[i] = Math.exp(t) * tail2 - tail1;
  }
  const find = (target: number) => {
    // First index with −δ(t_i) ≥ −target (numpy.searchsorted, side "left").
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (negativeDelta[mid]! < -target) lo = mid + 1;
      else hi = mid;
    }
    if (lo <= 0 || lo >= n) throw new RangeError('cannot compute ε from the PRV: δ lies outside its domain');
    return Math.log((d1[lo]! - target) / d2[lo]!);
  };
  return {
    lower: find(delta + deltaError) - epsError,
    estimate: find(delta),
    upper: find(delta - deltaError) + epsError,
  };
}

/** (ε lower, estimate, upper) of a history of Poisson-subsampled Gaussian steps. */
export function prvEpsilon(
  history: readonly HistoryEntry[],
  delta: number,
  options: { epsError?: number; deltaError?: number } = {},
): EpsilonBounds {
  const epsError = options.epsError ?? 0.01;
  const deltaError = options.deltaError ?? delta / 1000;
  const totalSteps = history.reduce((sum, [, , steps]) => sum + steps, 0);
  const halfWidth = safeDomainHalfWidth(history, epsError, deltaError);
  const mesh = epsError / Math.sqrt((totalSteps * Math.log(12 / deltaError)) / 2);
  const domain = alignedDomain(halfWidth, mesh);
  const prvs = history.map(([noiseMultiplier, sampleRate]) =>
    discretize(sampleRate, noiseMultiplier, domain),
  );
  const composed = composeHeterogeneous(
    prvs,
    history.map(([, , steps]) => steps),
  );
  return epsilonFromPrv(composed, delta, deltaError, epsError);
}
