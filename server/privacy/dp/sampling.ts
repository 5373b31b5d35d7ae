/**
 * Poisson sampling of privacy units. Each unit (an example, or all of a customer's examples) joins
 * a batch independently with probability q, so batch sizes vary and may be zero; the accountant's
 * amplification by subsampling assumes exactly this.
 */
import type { Rng } from './rng.js';

/** Indices in [0, count) each kept with probability q, ascending; geometric gaps make it O(q·count). */
export function poissonSample(count: number, sampleRate: number, rng: Rng): number[] {
  if (!(sampleRate >= 0 && sampleRate <= 1))
    throw new RangeError(`sampleRate must be in [0, 1], got ${sampleRate}`);
  if (sampleRate === 0) return [];
  if (sampleRate === 1) return Array.from({ length: count }, (_, i) => i);
  const logMiss = Math.log1p(-sampleRate);
  const chosen: number[] = [];
  let index = -1;
  for (;;) {
    // Failures before the next success of a Bernoulli(q) sequence: Geometric(q).
    index += 1 + Math.floor(Math.log(1 - rng.next()) / logMiss);
    if (index >= count) return chosen;
    chosen.push(index);
  }
}

/** Examples grouped into units: `unitOf(i)` names the unit (customer) of example i. First-seen order. */
export function groupByUnit(
  exampleCount: number,
  unitOf: (exampleIndex: number) => string | number,
): number[][] {
  const units = new Map<string | number, number[]>();
  for (let i = 0; i < exampleCount; i++) {
    const key = unitOf(i);
    let members = units.get(key);
    if (!members) {
      members = [];
      units.set(key, members);
    }
    members.push(i);
  }
  return [...units.values()];
}

export interface SampledBatch {
  /** Example indices in the batch, unit by unit. */
  examples: number[];
  /** For each entry of `examples`, its unit's position in the batch (0 … unitCount − 1). */
  unitIds: number[];
  unitCount: number;
}

/** Poisson-samples units and lists their examples. Without `units`, every example is its own unit. */
export function sampleBatch(
  options: { exampleCount: number; units?: number[][]; sampleRate: number },
  rng: Rng,
): SampledBatch {
  const units = options.units;
  if (!units) {
    const examples = poissonSample(options.exampleCount, options.sampleRate, rng);
    return { examples, unitIds: examples.map((_, i) => i), unitCount: examples.length };
  }
  const chosen = poissonSample(units.length, options.sampleRate, rng);
  const examples: number[] = [];
  const unitIds: number[] = [];
  chosen.forEach((unit, position) => {
    for (const example of units[unit]!) {
      examples.push(example);
      unitIds.push(position);
    }
  });
  return { examples, unitIds, unitCount: chosen.length };
}
