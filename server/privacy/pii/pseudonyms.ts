/**
 * Conversation-scoped placeholders: the same value is `<PERSON_1>` in every turn and in the metadata,
 * a second person is `<PERSON_2>`. The table is keyed by HMACs of normalized values, so a persisted
 * state never holds a raw value. A first name alone maps to the person whose full name starts with it.
 */
import { createHmac } from 'node:crypto';
import { normalizeValue } from './normalize.js';
import type { EntityType, PseudonymState } from './types.js';

export class PseudonymTable {
  private readonly counters: Partial<Record<EntityType, number>>;
  private readonly assignments: Record<string, string>;
  /** Words of the persons seen by this instance (memory only, never in the state). */
  private readonly knownWords = new Set<string>();
  /** Only a restored state needs HMAC look-ups for names seen before this instance. */
  private readonly restored: boolean;
  private readonly restoredCache = new Map<string, boolean>();

  constructor(
    private readonly key: Buffer,
    state?: PseudonymState,
  ) {
    this.counters = { ...(state?.counters ?? {}) };
    this.assignments = { ...(state?.assignments ?? {}) };
    this.restored = (state?.counters.PERSON ?? 0) > 0;
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('hex').slice(0, 32);
  }

  /** The placeholder of `value`, assigning the next number of its type when it is new. */
  placeholder(type: EntityType, value: string): string {
    const normalized = normalizeValue(type, value);
    const key = this.mac(`${type}:${normalized}`);
    const existing = this.assignments[key];
    if (existing) return existing;
    let placeholder: string | undefined;
    if (type === 'PERSON') {
      const words = normalized.split(' ');
      if (words.length === 1) placeholder = this.assignments[this.mac(`PERSON~first:${normalized}`)];
      else placeholder = this.assignments[this.mac(`PERSON:${words[0]}`)];
    }
    if (!placeholder) {
      const n = (this.counters[type] ?? 0) + 1;
      this.counters[type] = n;
      placeholder = `<${type}_${n}>`;
    }
    this.assignments[key] = placeholder;
    if (type === 'PERSON') {
      const words = normalized.split(' ');
      const firstKey = this.mac(`PERSON~first:${words[0]}`);
      if (words.length > 1 && !this.assignments[firstKey]) this.assignments[firstKey] = placeholder;
      this.knownWords.add(normalized);
      this.knownWords.add(words[0]!);
    }
    return placeholder;
  }

  /** Whether a one-word name (lower case) was already seen as a person or as a person's first name. */
  isKnownPerson(word: string): boolean {
    if (this.knownWords.has(word)) return true;
    if (!this.restored) return false;
    let known = this.restoredCache.get(word);
    if (known === undefined) {
      known =
        this.assignments[this.mac(`PERSON:${word}`)] !== undefined ||
        this.assignments[this.mac(`PERSON~first:${word}`)] !== undefined;
      this.restoredCache.set(word, known);
    }
    return known;
  }

  state(): PseudonymState {
    return { counters: { ...this.counters }, assignments: { ...this.assignments } };
  }
}
