import type { Ask } from '../context.js';
import type { DetectedEntity, EntityType } from '../types.js';

/** What every recognizer sees for one text; computed once per text by the analyzer. */
export interface AnalysisInput {
  text: string;
  /** What the previous turn asked for, in order ("your account number and PIN" -> account, pin). */
  asked: readonly Ask[];
  role?: 'customer' | 'agent' | 'bot';
  isKnownPerson?: (normalized: string) => boolean;
  /** Per-text memo for work that several recognizers share (keys are module-private symbols). */
  memo: Map<symbol, unknown>;
}

export interface Recognizer {
  /** Registry name, also reported as DetectedEntity.recognizer. */
  name: string;
  entities: readonly EntityType[];
  analyze(input: AnalysisInput): DetectedEntity[];
}

export function memoized<T>(input: AnalysisInput, key: symbol, compute: () => T): T {
  if (input.memo.has(key)) return input.memo.get(key) as T;
  const value = compute();
  input.memo.set(key, value);
  return value;
}
