/** Datasets: the list with their figures, and a build from chosen sources (202, then `dataset:done`). */
import { useEffect, useState } from 'preact/hooks';
import type { DatasetView, SourceView } from '../admin-api.js';
import { type DatasetForm, datasetBuild, datasetFormDefaults } from '../admin-forms.js';
import { errorMessage } from '../api.js';
import { AdminPage, Loaded, StatusBadge, TextField } from '../components/admin.js';
import { useConsole } from '../context.js';
import { formatCount, formatDate } from '../format.js';
import { useAdminApi, useResource } from '../hooks.js';

export function DatasetsPage() {
  const admin = useAdminApi();
  const { live } = useConsole();
  const [resource, reload] = useResource(async () => {
    const [datasets, sources] = await Promise.all([admin.datasets(), admin.sources()]);
    return { datasets, sources };
  });
  const [building, setBuilding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(
    () =>
      live.on('dataset:done', (event) => {
        setBuilding(false);
        setNotice(
          event.error || event.status !== 'ready'
            ? `The dataset build failed: ${event.error ?? event.status}`
            : `Dataset ${event.name ?? event.datasetId} is ready.`,
        );
        reload();
      }),
    [live],
  );

  return (
    <AdminPage
      title="Datasets"
      focusKey="datasets"
      intro="Immutable training snapshots of anonymized conversations. A model's lineage names the dataset it learned from."
    >
      <p class="notice-line" role="status">
        {building ? 'Building the dataset…' : notice}
      </p>
      <Loaded resource={resource} reload={reload} what="datasets">
        {(data) => (
          <>
            <section class="panel" aria-labelledby="build-title">
              <h2 id="build-title">Build a dataset</h2>
              <BuildForm
                sources={data.sources}
                building={building}
                onStarted={() => {
                  setNotice(null);
                  setBuilding(true);
                }}
              />
            </section>
            <section class="panel" aria-labelledby="datasets-title">
              <h2 id="datasets-title">Datasets</h2>
              <DatasetTable datasets={data.datasets} />
            </section>
          </>
        )}
      </Loaded>
    </AdminPage>
  );
}

function BuildForm({
  sources,
  building,
  onStarted,
}: {
  sources: SourceView[];
  building: boolean;
  onStarted: () => void;
}) {
  const admin = useAdminApi();
  const [form, setForm] = useState<DatasetForm>(datasetFormDefaults);
  const [errors, setErrors] = useState<Partial<Record<keyof DatasetForm, string>>>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (sources.length === 0)
    return (
      <p class="state state-empty">
        No sources yet: add one with <code>npx parley source add</code>.
      </p>
    );

  const toggle = (name: string, on: boolean) =>
    setForm((current) => ({
      ...current,
      sources: on ? [...current.sources, name] : current.sources.filter((source) => source !== name),
    }));

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy || building) return;
    const result = datasetBuild(form);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    setServerError(null);
    setBusy(true);
    try {
      await admin.buildDataset(result.value);
      onStarted();
    } catch (failure) {
      setServerError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="admin-form" onSubmit={(event) => void submit(event)} noValidate>
      <fieldset class="source-picker" aria-describedby="build-sources-error">
        <legend>Sources</legend>
        <div class="checks">
          {sources.map((source) => (
            <label key={source.name} class="check">
              <input
                type="checkbox"
                checked={form.sources.includes(source.name)}
                onChange={(event) => toggle(source.name, event.currentTarget.checked)}
              />
              <span class="mono">{source.name}</span>
              <span class="hint">
                {source.lastRun
                  ? `${formatCount(source.lastRun.counts.conversations)} conversations last run`
                  : 'never ingested'}
              </span>
            </label>
          ))}
        </div>
        <p class="error field-error" id="build-sources-error">
          {errors.sources ?? ''}
        </p>
      </fieldset>
      <div class="form-grid">
        <TextField
          id="build-since"
          label="Conversations since (optional)"
          help="Leave empty for everything ingested."
          error={errors.since}
          type="date"
          value={form.since}
          onValue={(since) => setForm((current) => ({ ...current, since }))}
        />
        <TextField
          id="build-validation"
          label="Validation %"
          help="Conversations held out to measure the model on (0 to 50)."
          error={errors.validationPercent}
          inputMode="numeric"
          value={form.validationPercent}
          onValue={(validationPercent) => setForm((current) => ({ ...current, validationPercent }))}
        />
      </div>
      <p class="error form-error" role="alert">
        {serverError}
      </p>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || building}>
          {building ? 'Building…' : busy ? 'Starting…' : 'Build dataset'}
        </button>
      </div>
    </form>
  );
}

function DatasetTable({ datasets }: { datasets: DatasetView[] }) {
  if (datasets.length === 0) return <p class="state state-empty">No datasets yet.</p>;
  return (
    <div class="table-wrap">
      <table class="data-table">
        <caption class="visually-hidden">Datasets, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Sources</th>
            <th scope="col" class="num">
              Conversations
            </th>
            <th scope="col" class="num">
              Examples (train / validation)
            </th>
            <th scope="col" class="num">
              Tokens
            </th>
            <th scope="col">Since</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {datasets.map((dataset) => (
            <tr key={dataset.id} data-dataset={dataset.name}>
              <th scope="row" class="mono">
                {dataset.name}
              </th>
              <td>
                <StatusBadge status={dataset.status} />
                {dataset.error ? <span class="error small"> {dataset.error}</span> : null}
              </td>
              <td class="mono">{dataset.sources.join(', ')}</td>
              <td class="num">{formatCount(dataset.stats?.conversations)}</td>
              <td class="num">
                {formatCount(dataset.stats?.trainExamples)} / {formatCount(dataset.stats?.validationExamples)}
              </td>
              <td class="num">{formatCount(dataset.stats?.tokens)}</td>
              <td>{dataset.filters?.since ? formatDate(dataset.filters.since) : 'all'}</td>
              <td>{formatDate(dataset.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
