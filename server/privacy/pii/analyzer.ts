/**
 * Runs the recognizers over a text and resolves overlaps: the highest score wins, then the longer
 * span, then the recognizer registered first. Candidates under the threshold are dropped.
 */
import { LRUCache } from 'lru-cache';
import { asksIn } from './context.js';
import { type Recognizer, recognizers } from './recognizers/index.js';
import { type DetectContext, type DetectedEntity, ENTITY_TYPES, type EntityType } from './types.js';

export const SCORE_THRESHOLD = 0.5;

/**
 * Support logs repeat themselves ("Thank you and goodbye.", metadata labels, templated agent turns),
 * so results are memoized. The analysis is a pure function of the text, the previous turn's asks,
 * the role and the answers to isKnownPerson; an entry records the words it asked about and is reused
 * only when the current conversation gives the same answers.
 */
const CACHE_SIZE = 10_000;
const CACHEABLE_LENGTH = 2_000;

interface CacheEntry {
  entities: DetectedEntity[];
  /** Words isKnownPerson was asked about, with the answers. */
  asked: [string, boolean][];
}

export interface Analyzer {
  analyze(text: string, context?: DetectContext): DetectedEntity[];
}

export function createAnalyzer(entities: readonly EntityType[] = ENTITY_TYPES): Analyzer {
  for (const type of entities)
    if (!ENTITY_TYPES.includes(type))
      throw new Error(`unknown entity type '${type}' (known: ${ENTITY_TYPES.join(', ')})`);
  const wanted = new Set(entities);
  const active: Recognizer[] = recognizers
    .names()
    .map((name) => recognizers.get(name))
    .filter((r) => r.entities.some((e) => wanted.has(e)));
  const order = new Map(active.map((r, i) => [r.name, i]));
  const cache = new LRUCache<string, CacheEntry>({ max: CACHE_SIZE });

  return {
    analyze(text, context = {}) {
      if (text.length === 0) return [];
      const asked = asksIn(context.previousText);
      const known = context.isKnownPerson;
      const cacheKey =
        text.length <= CACHEABLE_LENGTH ? `${context.role ?? ''}|${asked.join(',')}|${text}` : undefined;
      if (cacheKey !== undefined) {
        const hit = cache.get(cacheKey);
        if (hit?.asked.every(([word, answer]) => (known?.(word) ?? false) === answer))
          return hit.entities.map((e) => ({ ...e }));
      }
      const queries: [string, boolean][] = [];
      const input = {
        text,
        asked,
        role: context.role,
        isKnownPerson: (word: string) => {
          const answer = known?.(word) ?? false;
          queries.push([word, answer]);
          return answer;
        },
        memo: new Map<symbol, unknown>(),
      };
      const candidates: DetectedEntity[] = [];
      for (const recognizer of active) {
        for (const entity of recognizer.analyze(input)) {
          if (entity.score >= SCORE_THRESHOLD && wanted.has(entity.type) && entity.end > entity.start)
            candidates.push(entity);
        }
      }
      const entities = resolveOverlaps(candidates, order);
      if (cacheKey !== undefined) {
        cache.set(cacheKey, { entities: entities.map((e) => ({ ...e })), asked: queries });
      }
      return entities;
    },
  };
}

export function resolveOverlaps(candidates: DetectedEntity[], order: Map<string, number>): DetectedEntity[] {
  if (candidates.length <= 1) return candidates;
  const ranked = [...candidates].sort(
    (a, b) =>
      b.score - a.score ||
      b.end - b.start - (a.end - a.start) ||
      (order.get(a.recognizer) ?? 0) - (order.get(b.recognizer) ?? 0) ||
      a.start - b.start,
  );
  const kept: DetectedEntity[] = [];
  for (const candidate of ranked) {
    if (kept.every((k) => candidate.end <= k.start || candidate.start >= k.end)) kept.push(candidate);
  }
  return kept.sort((a, b) => a.start - b.start);
}
