/**
 * The privacy ledger: how much (ε, δ) has been spent on a body of data, summed over every model
 * version trained on overlapping data by basic composition (ε's add, δ's add). Basic composition
 * is loose but needs nothing the versions do not record, and holds whatever each run did.
 *
 * Two datasets overlap when they share a source and their date ranges (filters.since/until,
 * inclusive, null = open) overlap: the same conversation can then be in both. That is the
 * snapshot view, right for example-level DP. A customer, though, can have conversations on both
 * sides of a date boundary, so the population view drops the date condition: every dataset of a
 * shared source counts. Customer-level runs are checked against the population view.
 */
import type { Types } from 'mongoose';
import type { Models } from '../../db/models/index.js';
import type { Env } from '../../env.js';

export type LedgerScope = 'snapshot' | 'population';

export interface DatasetRange {
  sourceIds: Types.ObjectId[];
  filters?: { since?: Date | null; until?: Date | null } | null;
}

export interface LedgerEntry {
  versionId: string;
  version: string;
  datasetId: string;
  status: string;
  epsilon: number;
  delta: number;
  accountant: string | null;
  unit: string | null;
}

export interface CumulativeSpend {
  datasetId: string;
  scope: LedgerScope;
  /** Datasets whose versions count, the given one included. */
  datasetIds: string[];
  epsilon: number;
  delta: number;
  versions: LedgerEntry[];
  /**
   * Versions trained on the same data without DP (no ε recorded). Their data has no DP guarantee
   * at all, whatever the sum above says.
   */
  nonPrivateVersions: string[];
}

export interface PrivacyBudget {
  /** Cap on cumulative ε; undefined = no cap. */
  epsilon?: number;
}

export interface PlannedRun {
  datasetId: Types.ObjectId | string;
  epsilon: number;
  delta: number;
  unit?: 'example' | 'customer';
}

export class PrivacyBudgetExceededError extends Error {
  override name = 'PrivacyBudgetExceededError';
  constructor(
    message: string,
    readonly spent: CumulativeSpend,
    readonly budget: Required<PrivacyBudget>,
  ) {
    super(message);
  }
}

const time = (date: Date | null | undefined, open: number) => (date ? date.getTime() : open);

function sharesSource(a: DatasetRange, b: DatasetRange): boolean {
  return a.sourceIds.some((id) => b.sourceIds.some((other) => other.equals(id)));
}

/** Whether two datasets can hold the same conversation (snapshot) or the same customer (population). */
export function datasetsOverlap(a: DatasetRange, b: DatasetRange, scope: LedgerScope = 'snapshot'): boolean {
  if (!sharesSource(a, b)) return false;
  if (scope === 'population') return true;
  const aSince = time(a.filters?.since, Number.NEGATIVE_INFINITY);
  const aUntil = time(a.filters?.until, Number.POSITIVE_INFINITY);
  const bSince = time(b.filters?.since, Number.NEGATIVE_INFINITY);
  const bUntil = time(b.filters?.until, Number.POSITIVE_INFINITY);
  return aSince <= bUntil && bSince <= aUntil;
}

/** Every version trained on data overlapping `datasetId`, and their summed (ε, δ). */
export async function cumulativeSpend(
  models: Models,
  datasetId: Types.ObjectId | string,
  options: { scope?: LedgerScope } = {},
): Promise<CumulativeSpend> {
  const scope = options.scope ?? 'snapshot';
  const dataset = await models.Dataset.findById(datasetId).lean();
  if (!dataset) throw new RangeError(`no dataset ${String(datasetId)}`);
  const candidates =
    dataset.sourceIds.length === 0
      ? []
      : await models.Dataset.find(
          { sourceIds: { $in: dataset.sourceIds } },
          { sourceIds: 1, filters: 1 },
        ).lean();
  const ids = [
    dataset._id,
    ...candidates
      .filter((c) => !c._id.equals(dataset._id) && datasetsOverlap(dataset, c, scope))
      .map((c) => c._id),
  ];
  const all = await models.ModelVersion.find(
    { datasetId: { $in: ids } },
    { version: 1, datasetId: 1, status: 1, privacy: 1 },
  )
    .sort({ createdAt: 1, _id: 1 })
    .lean();
  const versions = all.filter((v) => typeof v.privacy?.epsilon === 'number');
  const entries: LedgerEntry[] = versions.map((v) => ({
    versionId: String(v._id),
    version: v.version,
    datasetId: String(v.datasetId),
    status: v.status ?? 'candidate',
    epsilon: v.privacy!.epsilon!,
    // A version that recorded ε but no δ is counted as pure ε-DP.
    delta: v.privacy!.delta ?? 0,
    accountant: v.privacy!.accountant ?? null,
    unit: v.privacy!.unit ?? null,
  }));
  return {
    datasetId: String(dataset._id),
    scope,
    datasetIds: ids.map(String),
    epsilon: entries.reduce((sum, e) => sum + e.epsilon, 0),
    delta: entries.reduce((sum, e) => sum + e.delta, 0),
    versions: entries,
    nonPrivateVersions: all.filter((v) => typeof v.privacy?.epsilon !== 'number').map((v) => v.version),
  };
}

/** The budget configured by PARLEY_PRIVACY_BUDGET_EPSILON. */
export function privacyBudgetFromEnv(env: Pick<Env, 'PARLEY_PRIVACY_BUDGET_EPSILON'>): PrivacyBudget {
  return env.PARLEY_PRIVACY_BUDGET_EPSILON === undefined
    ? {}
    : { epsilon: env.PARLEY_PRIVACY_BUDGET_EPSILON };
}

/**
 * Refuses a planned DP run whose ε, added to what overlapping data has already spent, would pass
 * the budget. Resolves to the spend so far (without the planned run).
 */
export async function assertWithinBudget(
  models: Models,
  run: PlannedRun,
  budget: PrivacyBudget,
): Promise<CumulativeSpend> {
  if (!(run.epsilon >= 0 && Number.isFinite(run.epsilon))) {
    throw new RangeError(`a planned run needs a finite ε >= 0, got ${run.epsilon}`);
  }
  const scope: LedgerScope = run.unit === 'customer' ? 'population' : 'snapshot';
  const spent = await cumulativeSpend(models, run.datasetId, { scope });
  if (budget.epsilon === undefined) return spent;
  const total = spent.epsilon + run.epsilon;
  if (total > budget.epsilon) {
    const previous =
      spent.versions.length === 0
        ? 'nothing spent before'
        : `ε = ${round(spent.epsilon)} already spent by ${spent.versions.map((v) => v.version).join(', ')}`;
    throw new PrivacyBudgetExceededError(
      `privacy budget exceeded: this run would spend ε = ${round(run.epsilon)} on data overlapping dataset ` +
        `${spent.datasetId} (${scope} view), on top of ${previous}; the total ε = ${round(total)} is over ` +
        `PARLEY_PRIVACY_BUDGET_EPSILON = ${budget.epsilon}. Train with more noise, fewer steps or a smaller ` +
        'sampling rate, or on data no earlier version used.',
      spent,
      { epsilon: budget.epsilon },
    );
  }
  return spent;
}

const round = (value: number) => Number(value.toPrecision(4));
