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
  comparison?: unknown;
  promotedAt?: Date | null;
  createdAt?: Date;
}

/** Which model the stored comparison report was made against, and when; the report itself is `parley eval compare`'s. */
function comparisonSummary(comparison: unknown) {
  const report = comparison as {
    against?: { kind?: string; version?: string | null; artifactPath?: string };
    createdAt?: string;
  } | null;
  if (!report?.against) return null;
  return {
    against: report.against.version ?? report.against.artifactPath ?? null,
    againstKind: report.against.kind ?? null,
    createdAt: report.createdAt ?? null,
  };
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
    comparison: comparisonSummary(version.comparison),
    promotedAt: version.promotedAt ?? null,
    createdAt: version.createdAt ?? null,
  };
}
