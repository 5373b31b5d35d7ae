/**
 * Picking the next token from one row of logits: repetition penalty, then temperature, top-k and
 * top-p (the order Hugging Face applies them in), then a draw from a seeded generator.
 */

export interface SamplingOptions {
  /** 0 picks the most likely token (greedy); default 1. */
  temperature?: number;
  /** Keeps only the k most likely tokens; omit for no limit. */
  topK?: number;
  /** Keeps the smallest set of most likely tokens whose probability reaches p; default 1. */
  topP?: number;
  /** HF semantics: > 1 discourages tokens already seen; default 1 (none). */
  repetitionPenalty?: number;
}

export class SamplingError extends RangeError {
  override name = 'SamplingError';
}

/** Throws SamplingError naming the first invalid option. */
export function validateSampling(options: SamplingOptions): void {
  const { temperature, topK, topP, repetitionPenalty } = options;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) {
    throw new SamplingError(`temperature must be a finite number >= 0, got ${temperature}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
    throw new SamplingError(`topK must be an integer >= 1, got ${topK}`);
  }
  if (topP !== undefined && !(topP > 0 && topP <= 1)) {
    throw new SamplingError(`topP must be in (0, 1], got ${topP}`);
  }
  if (repetitionPenalty !== undefined && !(Number.isFinite(repetitionPenalty) && repetitionPenalty > 0)) {
    throw new SamplingError(`repetitionPenalty must be a finite number > 0, got ${repetitionPenalty}`);
  }
}

/** mulberry32: a uniform generator on [0, 1) that repeats for a given seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest logit; the first one on ties. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/**
 * A copy of `logits` where every token in `seen` has its logit divided by `penalty` when positive
 * and multiplied by it when negative (each token once, however often it was seen).
 */
export function applyRepetitionPenalty(
  logits: Float32Array,
  seen: Iterable<number>,
  penalty: number,
): Float32Array {
  const out = Float32Array.from(logits);
  if (penalty === 1) return out;
  for (const id of new Set(seen)) {
    const v = logits[id];
    if (v === undefined) continue;
    out[id] = v > 0 ? v / penalty : v * penalty;
  }
  return out;
}

/**
 * Probabilities over the vocabulary after temperature, top-k and top-p; tokens cut away get 0.
 * `temperature` must be > 0.
 */
export function samplingDistribution(
  logits: Float32Array,
  { temperature = 1, topK, topP = 1 }: SamplingOptions,
): Float64Array {
  const n = logits.length;
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    probs[i] = Math.exp((logits[i]! - max) / temperature);
    sum += probs[i]!;
  }
  for (let i = 0; i < n; i++) probs[i]! /= sum;
  if (topK === undefined && topP >= 1) return probs;

  // Most likely first; ties keep the lower id first, as argmax does.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
  const keep = Math.min(topK ?? n, n);
  let kept = 0;
  let mass = 0;
  // top-p: a token stays while the mass before it is below p, so the most likely always stays.
  while (kept < keep && (kept === 0 || mass < topP)) mass += probs[order[kept++]!]!;
  for (let r = kept; r < n; r++) probs[order[r]!] = 0;
  for (let r = 0; r < kept; r++) probs[order[r]!]! /= mass;
  return probs;
}

/** Draws an index from `probs` (summing to 1) with one uniform number from `random`. */
export function drawIndex(probs: Float64Array, random: () => number): number {
  const u = random();
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! === 0) continue;
    last = i;
    cumulative += probs[i]!;
    if (u < cumulative) return i;
  }
  // Rounding can leave the total a hair under 1.
  return last;
}

/**
 * The next token for `logits` ([vocab]); `seen` are the ids the repetition penalty applies to
 * (prompt and generated so far). Greedy when temperature is 0.
 */
export function sampleToken(
  logits: Float32Array,
  options: SamplingOptions,
  random: () => number,
  seen: Iterable<number> = [],
): number {
  const penalized = applyRepetitionPenalty(logits, seen, options.repetitionPenalty ?? 1);
  if ((options.temperature ?? 1) === 0) return argmax(penalized);
  return drawIndex(samplingDistribution(penalized, options), random);
}
