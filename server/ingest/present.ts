import type { Mapping } from './mapping.js';

interface SourceLike {
  name: string;
  kind?: string | null;
  database?: string | null;
  collectionName?: string | null;
  mapping: unknown;
  watermark?: { ts?: unknown; id?: unknown } | null;
  createdAt?: Date;
}

interface RunLike {
  _id: { toHexString(): string };
  status: string;
  startedAt: Date;
  finishedAt?: Date | null;
  counts?: { read?: number; conversations?: number; messages?: number; quarantined?: number } | null;
}

const plain = (value: unknown): unknown =>
  value && typeof value === 'object' && 'toHexString' in value
    ? (value as { toHexString(): string }).toHexString()
    : value;

/** A source as it leaves the server: everything but the URI. */
export function presentSource(source: SourceLike, lastRun?: RunLike | null) {
  return {
    name: source.name,
    kind: source.kind ?? 'mongodb',
    database: source.database ?? null,
    collection: source.collectionName ?? null,
    shape: (source.mapping as Mapping).shape,
    watermark: source.watermark?.ts ? { ts: source.watermark.ts, id: plain(source.watermark.id) } : null,
    createdAt: source.createdAt ?? null,
    lastRun: lastRun ? presentRun(lastRun) : null,
  };
}

export function presentRun(run: RunLike) {
  return {
    id: run._id.toHexString(),
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? null,
    counts: {
      read: run.counts?.read ?? 0,
      conversations: run.counts?.conversations ?? 0,
      messages: run.counts?.messages ?? 0,
      quarantined: run.counts?.quarantined ?? 0,
    },
  };
}
