/** Reference-based metrics for generated replies, on lower-cased word tokens. */
export const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];

function lcsLength(a: string[], b: string[]): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j += 1)
      row[j] = x === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, row[j - 1]!);
    previous = row;
  }
  return previous[b.length]!;
}

/** ROUGE-L F1 (Lin 2004) between a candidate and a reference. */
export function rougeL(candidate: string, reference: string): number {
  const c = words(candidate);
  const r = words(reference);
  if (c.length === 0 || r.length === 0) return c.length === r.length ? 1 : 0;
  const lcs = lcsLength(c, r);
  if (lcs === 0) return 0;
  const precision = lcs / c.length;
  const recall = lcs / r.length;
  return (2 * precision * recall) / (precision + recall);
}

function ngrams(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i += 1) {
    const gram = tokens.slice(i, i + n).join(' ');
    counts.set(gram, (counts.get(gram) ?? 0) + 1);
  }
  return counts;
}

/**
 * Sentence BLEU-4 (Papineni et al. 2002) with add-one smoothing of the higher-order precisions
 * (Lin & Och 2004, "smoothing 2"), so a short reply without a matching 4-gram does not score 0.
 */
export function bleu(candidate: string, reference: string, maxOrder = 4): number {
  const c = words(candidate);
  const r = words(reference);
  if (c.length === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= maxOrder; n += 1) {
    const cand = ngrams(c, n);
    const ref = ngrams(r, n);
    let matches = 0;
    let total = 0;
    for (const [gram, count] of cand) {
      matches += Math.min(count, ref.get(gram) ?? 0);
      total += count;
    }
    const smoothing = n === 1 ? 0 : 1;
    if (matches + smoothing === 0 || total + smoothing === 0) return 0;
    logSum += Math.log((matches + smoothing) / (total + smoothing));
  }
  const brevity = c.length >= r.length ? 1 : Math.exp(1 - r.length / c.length);
  return brevity * Math.exp(logSum / maxOrder);
}
