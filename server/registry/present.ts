interface VersionLike {
  _id: { toHexString(): string };
  version: string;
  status: string;
  artifactPath: string;
  baseModel: string;
  architecture?: string | null;
  datasetId?: { toHexString(): string } | null;
  trainingJobId?: { toHexString(): string } | null;
  hyperparameters?: unknown;
  privacy?: unknown;
  metrics?: unknown;
  promotedAt?: Date | null;
  createdAt?: Date;
}

export function presentVersion(version: VersionLike) {
  return {
    id: version._id.toHexString(),
    version: version.version,
    status: version.status,
    artifactPath: version.artifactPath,
    baseModel: version.baseModel,
    architecture: version.architecture ?? null,
    datasetId: version.datasetId?.toHexString() ?? null,
    trainingJobId: version.trainingJobId?.toHexString() ?? null,
    hyperparameters: version.hyperparameters ?? {},
    privacy: version.privacy ?? null,
    metrics: version.metrics ?? {},
    promotedAt: version.promotedAt ?? null,
    createdAt: version.createdAt ?? null,
  };
}
