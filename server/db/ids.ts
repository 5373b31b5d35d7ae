import { hash } from 'node:crypto';
import { ObjectId } from 'mongodb';

/**
 * A stable ObjectId derived from a namespace and parts (source ids, names, emails).
 * Idempotent upserts key on it, and it keeps uniqueness in `_id`, the one unique index every
 * MongoDB-compatible server enforces (the embedded one rejects string `_id`s and ignores
 * unique secondary indexes).
 */
export function deterministicId(namespace: string, ...parts: (string | number)[]): ObjectId {
  return ObjectId.createFromHexString(deterministicHex(namespace, ...parts));
}

/** deterministicId as its hex string, for callers that compare ids before they need an ObjectId. */
export function deterministicHex(namespace: string, ...parts: (string | number)[]): string {
  let input = namespace;
  for (const part of parts) {
    const text = String(part);
    // Length-prefix each part so ('ab','c') and ('a','bc') differ.
    input += `\u0000${text.length}:${text}`;
  }
  // One-shot, and a hex string rather than a Buffer: the same first 12 bytes of the same digest as
  // hashing the pieces in turn, with no buffer to allocate per id.
  return hash('sha256', input, 'hex').slice(0, 24);
}
