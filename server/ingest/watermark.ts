/**
 * Incremental reads: a run continues after the last (timestamp, _id) it committed. The timestamp
 * is kept as the source stores it (Date, ISO string or number), so the source's own comparison
 * applies; `_id` breaks ties between documents with the same timestamp.
 */
import type { Filter, Sort } from 'mongodb';
import { valueAt } from './mapping.js';
import { readTimestamp } from './normalize.js';

export interface Watermark {
  ts: unknown;
  id: unknown;
}

export function afterWatermark(
  timestampPath: string,
  watermark: Watermark | null,
): Filter<Record<string, unknown>> {
  if (!watermark || watermark.ts === null || watermark.ts === undefined) return {};
  const filter: Record<string, unknown> = {
    $or: [
      { [timestampPath]: { $gt: watermark.ts } },
      { [timestampPath]: watermark.ts, _id: { $gt: watermark.id } },
    ],
  };
  return filter as Filter<Record<string, unknown>>;
}

export const readOrder = (timestampPath: string): Sort => ({ [timestampPath]: 1, _id: 1 });

/** The watermark a document moves the source to, or null when its timestamp is unusable. */
export function watermarkOf(document: Record<string, unknown>, timestampPath: string): Watermark | null {
  const ts = valueAt(document, timestampPath);
  return readTimestamp(ts, timestampPath).ok ? { ts, id: document._id } : null;
}
