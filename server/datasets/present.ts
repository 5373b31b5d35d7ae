import type { Types } from 'mongoose';

interface DatasetLike {
  _id: Types.ObjectId;
  name: string;
  status: string;
  sourceIds?: Types.ObjectId[] | null;
  filters?: unknown;
  render?: unknown;
  stats?: unknown;
  piiReport?: unknown;
  sourceWatermarks?: unknown;
  artifactPath?: string | null;
  error?: string | null;
  createdAt?: Date;
}

/** A dataset as it leaves the server; `sourceNames` maps source ids to names. */
export function presentDataset(dataset: DatasetLike, sourceNames: Map<string, string>) {
  return {
    id: dataset._id.toHexString(),
    name: dataset.name,
    status: dataset.status,
    sources: (dataset.sourceIds ?? []).map((id) => sourceNames.get(id.toHexString()) ?? id.toHexString()),
    filters: dataset.filters ?? null,
    render: dataset.render ?? null,
    stats: dataset.stats ?? null,
    piiReport: dataset.piiReport ?? null,
    sourceWatermarks: dataset.sourceWatermarks ?? null,
    artifactPath: dataset.artifactPath ?? null,
    createdAt: dataset.createdAt ?? null,
    error: dataset.error ?? null,
  };
}
