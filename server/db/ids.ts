import { hash } from 'node:crypto';
import { ObjectId } from 'mongodb';

/**
 * A stable ObjectId derived from a namespace and parts (source ids, names, emails).
 * Idempotent upserts key on it, and it keeps uniqueness in `_id`, the one unique index every
 * MongoDB-compatible server enforces (the embedded one rejects string `_id`s and ignores
 * unique secondary indexes).
 */
export function deterministicId(namespace: string, ...parts: (string | number)[]): ObjectId {
  let input = namespace;
  for (const part of parts) {
    const text = String(part);
    // Length-prefix each part so ('ab','c') and ('a','bc') differ.
    input += `\u0000${text.length}:${text}`;
  }
  // One-shot: the same digest as hashing the pieces in turn, at a fraction of the cost.
  return new ObjectId(hash('sha256', input, 'buffer').subarray(0, 12));
}
