/**
 * Span-level precision and recall of detected entities against hand-labelled ones (bench/pii-eval.ts
 * and the regression test on tests/fixtures/pii/star-dev-gold.jsonl).
 *
 * Matching rule: a predicted span is a hit for a gold span when the types are equal and the two
 * overlap by at least half the length of the longer one ("Dr. Morgan" for "Morgan" is a hit, "Brian"
 * for "Brian White" is not). Each gold span can be hit once; a prediction with no gold span is a
 * false positive and a gold span with no prediction a false negative.
 */
import type { EntityType } from './types.js';

export interface Span {
  type: EntityType;
  start: number;
  end: number;
}

export interface Counts {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

export interface Scores extends Counts {
  precision: number;
  recall: number;
  f1: number;
}

export function isHit(predicted: Span, gold: Span): boolean {
  if (predicted.type !== gold.type) return false;
  const overlap = Math.min(predicted.end, gold.end) - Math.max(predicted.start, gold.start);
  const longer = Math.max(predicted.end - predicted.start, gold.end - gold.start);
  return overlap > 0 && overlap * 2 >= longer;
}

/** Counts for one text, per type. */
export function compareSpans(predicted: readonly Span[], gold: readonly Span[]): Map<EntityType, Counts> {
  const counts = new Map<EntityType, Counts>();
  const of = (type: EntityType) => {
    const existing = counts.get(type);
    if (existing) return existing;
    const created = { truePositives: 0, falsePositives: 0, falseNegatives: 0 };
    counts.set(type, created);
    return created;
  };
  const used = new Set<number>();
  for (const p of predicted) {
    const index = gold.findIndex((g, i) => !used.has(i) && isHit(p, g));
    if (index === -1) of(p.type).falsePositives += 1;
    else {
      used.add(index);
      of(p.type).truePositives += 1;
    }
  }
  gold.forEach((g, i) => {
    if (!used.has(i)) of(g.type).falseNegatives += 1;
  });
  return counts;
}

export function addCounts(into: Counts, more: Counts): void {
  into.truePositives += more.truePositives;
  into.falsePositives += more.falsePositives;
  into.falseNegatives += more.falseNegatives;
}

export function scores(c: Counts): Scores {
  const found = c.truePositives + c.falsePositives;
  const relevant = c.truePositives + c.falseNegatives;
  const precision = found === 0 ? 1 : c.truePositives / found;
  const recall = relevant === 0 ? 1 : c.truePositives / relevant;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...c, precision, recall, f1 };
}
