/** Noise calibration: the smallest noise multiplier that keeps ε within a target. */
import { validateDelta } from './accountant.js';
import { createAccountant } from './registry.js';

export interface NoiseTarget {
  targetEpsilon: number;
  delta: number;
  sampleRate: number;
  steps: number;
  accountant?: string;
}

export interface Calibration {
  noiseMultiplier: number;
  /** ε at that noise multiplier (≤ targetEpsilon). */
  epsilon: number;
}

/** Beyond this the model learns nothing; Opacus gives up at 1e6 as well. */
const MAX_NOISE = 1e6;
const MIN_NOISE = 1e-3;
/** Bisection stops when the bracket is this tight: the answer is within 1% of the smallest σ. */
const RELATIVE_TOLERANCE = 0.01;

export class UnreachableTargetError extends RangeError {
  override name = 'UnreachableTargetError';
}

/** ε at σ, remembered: the search asks for some σ twice, and the PRV accountant is not cheap. */
function epsilonOf(target: NoiseTarget): (noiseMultiplier: number) => number {
  const known = new Map<number, number>();
  return (noiseMultiplier) => {
    let epsilon = known.get(noiseMultiplier);
    if (epsilon === undefined) {
      const accountant = createAccountant(target.accountant ?? 'rdp');
      accountant.step({ noiseMultiplier, sampleRate: target.sampleRate }, target.steps);
      epsilon = accountant.getEpsilon(target.delta);
      known.set(noiseMultiplier, epsilon);
    }
    return epsilon;
  };
}

/**
 * The smallest σ (to within 1%) whose ε after `steps` steps is ≤ targetEpsilon: a geometric
 * bracket, then bisection. ε falls as σ grows (at every RDP order), so the search is sound.
 */
export function noiseForTarget(target: NoiseTarget): Calibration {
  const { targetEpsilon, sampleRate, steps } = target;
  if (!(targetEpsilon > 0 && Number.isFinite(targetEpsilon))) {
    throw new RangeError(`target epsilon must be a positive number, got ${targetEpsilon}`);
  }
  validateDelta(target.delta);
  if (!(sampleRate > 0 && sampleRate <= 1))
    throw new RangeError(`sampleRate must be in (0, 1], got ${sampleRate}`);
  if (!(Number.isInteger(steps) && steps > 0))
    throw new RangeError(`steps must be a positive integer, got ${steps}`);
  const epsilonAt = epsilonOf(target);

  let high = 1;
  let highEpsilon = epsilonAt(high);
  while (highEpsilon > targetEpsilon) {
    high *= 2;
    if (high > MAX_NOISE) {
      const floor = epsilonAt(MAX_NOISE);
      throw new UnreachableTargetError(
        `target ε = ${targetEpsilon} is unreachable at δ = ${target.delta}: even a noise multiplier of ` +
          `${MAX_NOISE} gives ε = ${floor.toPrecision(4)} (the RDP-to-(ε, δ) conversion alone costs about that ` +
          'much); raise the target ε or δ',
      );
    }
    highEpsilon = epsilonAt(high);
  }
  let low = high / 2;
  while (epsilonAt(low) <= targetEpsilon) {
    high = low;
    low /= 2;
    if (low < MIN_NOISE) break;
  }
  highEpsilon = epsilonAt(high);
  while (high - low > RELATIVE_TOLERANCE * low) {
    const middle = Math.sqrt(low * high);
    const epsilon = epsilonAt(middle);
    if (epsilon <= targetEpsilon) {
      high = middle;
      highEpsilon = epsilon;
    } else {
      low = middle;
    }
  }
  return { noiseMultiplier: high, epsilon: highEpsilon };
}
