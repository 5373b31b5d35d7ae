/**
 * The promotion gate: a candidate may not be worse than the version in production beyond a
 * tolerance, on the metrics both have (validation loss: lower is better; ranking R@1: higher).
 * The figures come from the candidate's comparison report when it was made against the version
 * active now (both measured on the same data: server/evaluate/compare.ts), otherwise from each
 * version's own stored metrics.
 */
export interface GateTolerances {
  /** Relative: 0.02 allows a validation loss 2% above the active one. */
  loss: number;
  /** Absolute: 0.02 allows an R@1 two points below the active one. */
  r1: number;
}

export interface GateMetrics {
  validationLoss?: number | null;
  r1?: number | null;
}

/** Reasons the candidate is blocked; empty when it passes (or there is nothing to compare). */
export function gateFailures(
  candidate: GateMetrics,
  active: GateMetrics | null,
  tolerances: GateTolerances,
): string[] {
  if (!active) return [];
  const failures: string[] = [];
  const { validationLoss: newLoss, r1: newR1 } = candidate;
  const { validationLoss: oldLoss, r1: oldR1 } = active;
  if (
    typeof newLoss === 'number' &&
    typeof oldLoss === 'number' &&
    newLoss > oldLoss * (1 + tolerances.loss)
  ) {
    failures.push(
      `validation loss ${newLoss.toFixed(4)} is worse than the active version's ${oldLoss.toFixed(4)} by more than ${tolerances.loss * 100}%`,
    );
  }
  if (typeof newR1 === 'number' && typeof oldR1 === 'number' && newR1 < oldR1 - tolerances.r1) {
    failures.push(
      `R@1 ${newR1.toFixed(3)} is below the active version's ${oldR1.toFixed(3)} by more than ${tolerances.r1}`,
    );
  }
  return failures;
}

interface StoredEvaluation {
  loss?: { validationLoss?: number } | null;
  ranking?: { r1?: number } | null;
}

/** Gate metrics from a stored comparison report, when it was made against `activeId`. */
export function comparisonGateMetrics(
  comparison: unknown,
  activeId: string,
): { candidate: GateMetrics; active: GateMetrics } | null {
  const report = comparison as {
    against?: { versionId?: string | null };
    evaluations?: { new?: StoredEvaluation; against?: StoredEvaluation };
  } | null;
  if (!report?.evaluations?.new || !report.evaluations.against || report.against?.versionId !== activeId)
    return null;
  const of = (e: StoredEvaluation): GateMetrics => ({
    validationLoss: e.loss?.validationLoss ?? null,
    r1: e.ranking?.r1 ?? null,
  });
  return { candidate: of(report.evaluations.new), active: of(report.evaluations.against) };
}
