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

  const ids = candidates(probs, topK, topP);
  // Native typed-array sort, ascending: the most likely come last.
  const sorted = Float64Array.from(ids, (id) => probs[id]!).sort();
  // Rounding can leave the candidates' mass a hair under p: then all of them stay.
  const keep = Math.min(topK ?? n, sorted.length);
  let kept = 0;
  let mass = 0;
  // top-p: a token stays while the mass before it is below p, so the most likely always stays.
  while (kept < keep && (kept === 0 || mass < topP)) mass += sorted[sorted.length - 1 - kept++]!;
  const least = sorted[sorted.length - kept]!;
  // Ids tied at the least kept probability stay lowest id first, as argmax picks.
  let ties = 0;
  for (let r = sorted.length - kept; r < sorted.length && sorted[r] === least; r++) ties++;
  const out = new Float64Array(n);
  for (const id of ids.sort((a, b) => a - b)) {
    const q = probs[id]!;
    if (q > least || (q === least && ties-- > 0)) out[id] = q / mass;
  }
  return out;
}

/**
 * Ids that can survive top-k and top-p, so that only they are sorted (a real vocabulary has
 * 10^5 ids): the k most likely, or every id at or above a probability t whose ids hold at least p
 * together, since the nucleus then ends among them. t starts at (1 - p) / n (the ids below it hold
 * less than 1 - p together) and is raised by bisection.
 */
function candidates(probs: Float64Array, topK: number | undefined, topP: number): number[] {
  const n = probs.length;
  if (topK !== undefined && topK < n) return largest(probs, topK);
  if (topP >= 1) return Array.from({ length: n }, (_, i) => i);
  let low = (1 - topP) / n;
  let high = 0;
  for (const q of probs) if (q > high) high = q;
  for (let step = 0; step < 20 && high > low * 1.01; step++) {
    const middle = Math.sqrt(low * high);
    let mass = 0;
    for (const q of probs) if (q >= middle) mass += q;
    if (mass >= topP) low = middle;
    else high = middle;
  }
  const ids: number[] = [];
  for (let i = 0; i < n; i++) if (probs[i]! >= low) ids.push(i);
  return ids;
}

/** The k ids of largest value (the lower id on ties), in no particular order: a min-heap of k. */
function largest(values: Float64Array, k: number): number[] {
  const heap: number[] = [];
  // The root is the weakest id kept; ids come in ascending order, so a tie never displaces it.
  const weaker = (a: number, b: number) => values[a]! < values[b]! || (values[a] === values[b] && a > b);
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let min = at;
      if (l < heap.length && weaker(heap[l]!, heap[min]!)) min = l;
      if (r < heap.length && weaker(heap[r]!, heap[min]!)) min = r;
      if (min === at) return;
      [heap[at], heap[min]] = [heap[min]!, heap[at]!];
      at = min;
    }
  };
  for (let i = 0; i < values.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let at = heap.length - 1; at > 0; ) {
        const parent = (at - 1) >> 1;
        if (!weaker(heap[at]!, heap[parent]!)) break;
        [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
        at = parent;
      }
    } else if (values[i]! > values[heap[0]!]!) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap;
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
