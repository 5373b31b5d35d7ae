/** Privacy: the ε spent on each dataset (every version trained on overlapping data) against the budget. */
import type { PrivacySpend } from '../admin-api.js';
import { AdminPage, Loaded } from '../components/admin.js';
import { formatNumber } from '../format.js';
import { useAdminApi, useResource } from '../hooks.js';
import { Link } from '../router.js';
import { versionPath } from '../routes.js';

export function PrivacyPage() {
  const admin = useAdminApi();
  const [resource, reload] = useResource(() => admin.privacy());
  return (
    <AdminPage
      title="Privacy"
      focusKey="privacy"
      intro="Differential privacy spend per dataset: the ε of every version trained on data that overlaps it, added up (basic composition)."
    >
      <Loaded
        resource={resource}
        reload={reload}
        what="the privacy ledger"
        isEmpty={(data) => data.spend.length === 0}
        empty="No ready datasets yet, so nothing has been spent."
      >
        {(data) => {
          const budget = data.budget.epsilon ?? null;
          // Without a budget the bars compare datasets with each other.
          const scale = budget ?? Math.max(1, ...data.spend.map((spend) => spend.epsilon));
          return (
            <>
              <p class="budget-line">
                {budget !== null ? (
                  <>
                    Budget: <strong>ε {formatNumber(budget, 3)}</strong> per body of data. A DP run that would
                    pass it is refused.
                  </>
                ) : (
                  <>
                    No budget is set (<code>PARLEY_PRIVACY_BUDGET_EPSILON</code>): DP runs are not capped.
                  </>
                )}
              </p>
              <ul class="spend-list">
                {data.spend.map((spend) => (
                  <SpendRow key={spend.datasetId} spend={spend} scale={scale} budget={budget} />
                ))}
              </ul>
            </>
          );
        }}
      </Loaded>
    </AdminPage>
  );
}

function SpendRow({ spend, scale, budget }: { spend: PrivacySpend; scale: number; budget: number | null }) {
  const over = budget !== null && spend.epsilon > budget;
  const id = `spend-${spend.datasetId}`;
  return (
    <li class="spend" data-dataset={spend.dataset}>
      <div class="spend-head">
        <span class="mono" id={`${id}-name`}>
          {spend.dataset}
        </span>
        <span class={over ? 'error' : ''}>
          ε {formatNumber(spend.epsilon, 3)}
          {budget !== null ? ` of ${formatNumber(budget, 3)}` : ''}
          {over ? ' (over budget)' : ''}
        </span>
      </div>
      <meter
        aria-labelledby={`${id}-name`}
        min={0}
        max={scale}
        value={Math.min(spend.epsilon, scale)}
        {...(budget !== null ? { high: budget * 0.8, optimum: 0 } : {})}
      />
      <p class="hint">
        {spend.versions.length === 0
          ? 'No DP version trained on it yet.'
          : spend.versions.map((entry, i) => (
              <span key={entry.versionId}>
                {i > 0 ? ', ' : ''}
                <Link href={versionPath(entry.version)}>{entry.version}</Link> ε{' '}
                {formatNumber(entry.epsilon, 3)}
                {entry.unit ? ` per ${entry.unit}` : ''}
              </span>
            ))}
        {spend.nonPrivateVersions.length > 0 ? (
          <span class="warn-text">
            {' '}
            Trained without DP on the same data: {spend.nonPrivateVersions.join(', ')} (no guarantee for that
            data).
          </span>
        ) : null}
      </p>
    </li>
  );
}
