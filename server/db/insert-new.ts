import type { Collection, Document, MongoBulkWriteError, OptionalUnlessRequiredId } from 'mongodb';

const DUPLICATE_KEY = 11000;

export interface InsertNewResult {
  inserted: number;
  existing: number;
}

/**
 * Inserts documents whose `_id` is not taken yet and skips the rest: idempotent by construction
 * when ids are deterministic. An unordered insert is one round trip and O(n) on every
 * MongoDB-compatible server, where an upsert per document costs a query each (a collection scan
 * on the embedded server).
 */
export async function insertNew<T extends Document>(
  collection: Collection<T>,
  docs: OptionalUnlessRequiredId<T>[],
): Promise<InsertNewResult> {
  if (docs.length === 0) return { inserted: 0, existing: 0 };
  try {
    const result = await collection.insertMany(docs, { ordered: false });
    return { inserted: result.insertedCount, existing: 0 };
  } catch (error) {
    const bulk = error as MongoBulkWriteError;
    const writeErrors = bulk.writeErrors === undefined ? null : [bulk.writeErrors].flat();
    if (!writeErrors || writeErrors.some((e) => e.code !== DUPLICATE_KEY)) throw error;
    return { inserted: docs.length - writeErrors.length, existing: writeErrors.length };
  }
}
