/**
 * Model versions: the list with lineage (dataset, base model, hyper-parameters, ε, validation
 * loss), the active one marked; promote (through the gate, or past it with a reason) and roll
 * back, each after a confirmation; one version's evaluation report with deltas and example replies.
 */
import { useState } from 'preact/hooks';
import type { DatasetView, ModelVersionView, SideBySide, VersionDetail } from '../admin-api.js';
import { errorMessage } from '../api.js';
import { AdminPage, Loaded, StatusBadge } from '../components/admin.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { formatDate, formatNumber } from '../format.js';
import { gateFailures, OVERRIDE_MAX, overrideReasonError } from '../gate.js';
import { useAdminApi, useResource } from '../hooks.js';
import { againstLabel, hyperparameterSummary, reportRows } from '../report.js';
import { Link } from '../router.js';
import { CONSOLE_BASE, trainingJobPath, versionPath } from '../routes.js';

const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

export function VersionsPage({ versionId }: { versionId: string | null }) {
  return versionId ? <VersionDetailPage id={versionId} /> : <VersionList />;
}

function VersionList() {
  const admin = useAdminApi();
  const [resource, reload] = useResource(async () => {
    const [list, datasets] = await Promise.all([admin.versions(), admin.datasets()]);
    return { ...list, datasets };
  });
  const [notice, setNotice] = useState<string | null>(null);
  const [promoting, setPromoting] = useState<ModelVersionView | null>(null);
  const [rollingBack, setRollingBack] = useState(false);

  const active = resource.data?.active ?? null;
  return (
    <AdminPage
      title="Versions"
      focusKey="versions"
      intro="Every registered model with what it was trained on. Promoting swaps the live chat at once; rolling back returns to the version active before."
      actions={
        <button type="button" onClick={() => setRollingBack(true)} disabled={!active}>
          Roll back
        </button>
      }
    >
      <p class="notice-line" role="status">
        {notice}
      </p>
      <Loaded
        resource={resource}
        reload={reload}
        what="versions"
        isEmpty={(data) => data.versions.length === 0}
        empty={
          <>
            No versions yet. <Link href={`${CONSOLE_BASE}/training`}>Train one</Link> from a dataset.
          </>
        }
      >
        {(data) => (
          <div class="table-wrap">
            <table class="data-table versions-table">
              <caption class="visually-hidden">Model versions, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Dataset</th>
                  <th scope="col">Base model</th>
                  <th scope="col">Hyper-parameters</th>
                  <th scope="col" class="num keep-case">
                    ε
                  </th>
                  <th scope="col" class="num">
                    Validation loss
                  </th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.versions.map((version) => (
                  <tr
                    key={version.id}
                    class={version.active ? 'is-active' : ''}
                    data-version={version.version}
                  >
                    <th scope="row">
                      <Link href={versionPath(version.version)}>{version.version}</Link>{' '}
                      {version.active ? (
                        <StatusBadge status="active" label="Active" />
                      ) : (
                        <StatusBadge status={version.status} />
                      )}
                    </th>
                    <td>
                      <DatasetName id={version.datasetId} datasets={data.datasets} />
                    </td>
                    <td class="mono truncate" title={version.baseModel}>
                      {shortPath(version.baseModel)}
                    </td>
                    <td>{hyperparameterSummary(version.hyperparameters)}</td>
                    <td class="num">{formatEpsilon(version)}</td>
                    <td class="num">{formatNumber(num(version.metrics.validationLoss))}</td>
                    <td>{formatDate(version.createdAt)}</td>
                    <td class="row-actions">
                      {!version.active && version.status !== 'failed' ? (
                        <button type="button" onClick={() => setPromoting(version)}>
                          Promote<span class="visually-hidden"> {version.version}</span>
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
      <PromoteDialog
        key={promoting?.id ?? 'none'}
        version={promoting}
        active={active}
        onClose={() => setPromoting(null)}
        onPromoted={(message) => {
          setPromoting(null);
          setNotice(message);
          reload();
        }}
      />
      <RollbackDialog
        open={rollingBack}
        active={active}
        onClose={() => setRollingBack(false)}
        onRolledBack={(message) => {
          setRollingBack(false);
          setNotice(message);
          reload();
        }}
      />
    </AdminPage>
  );
}

function DatasetName({ id, datasets }: { id: string | null; datasets: DatasetView[] }) {
  if (!id) return <span class="muted">—</span>;
  const dataset = datasets.find((candidate) => candidate.id === id);
  return <span title={id}>{dataset?.name ?? `${id.slice(0, 8)}…`}</span>;
}

const shortPath = (value: string) => value.split(/[\\/]/).filter(Boolean).slice(-2).join('/') || value;

function formatEpsilon(version: Pick<ModelVersionView, 'privacy'>): string {
  const epsilon = version.privacy?.epsilon;
  if (typeof epsilon !== 'number') return 'no DP';
  return `${formatNumber(epsilon, 3)}${version.privacy?.unit ? ` / ${version.privacy.unit}` : ''}`;
}

/**
 * Promote after a confirmation; a gate refusal shows its reasons and asks for a reason to override.
 * Keyed by the version asked about, so each opens fresh.
 */
function PromoteDialog({
  version,
  active,
  onClose,
  onPromoted,
}: {
  version: Pick<ModelVersionView, 'id' | 'version'> | null;
  active: string | null;
  onClose: () => void;
  onPromoted: (message: string) => void;
}) {
  const admin = useAdminApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reasons, setReasons] = useState<string[] | null>(null);
  const [override, setOverride] = useState('');
  const [touched, setTouched] = useState(false);

  const overrideError = reasons ? overrideReasonError(override) : null;
  const confirm = async () => {
    if (!version) return;
    if (reasons && overrideError) {
      setTouched(true);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await admin.promote(version.id, reasons ? override.trim() : undefined);
      onPromoted(
        `${result.version} is live${result.previous ? ` (was ${result.previous})` : ''}${result.overridden ? ', past the gate' : ''}.`,
      );
    } catch (failure) {
      const gate = gateFailures(failure);
      if (gate) setReasons(gate);
      else setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <ConfirmDialog
      open={version !== null}
      title={reasons ? `The gate blocks ${version?.version ?? ''}` : `Promote ${version?.version ?? ''}?`}
      confirmLabel={reasons ? 'Promote anyway' : 'Promote'}
      danger={reasons !== null}
      busy={busy}
      error={error}
      onConfirm={() => void confirm()}
      onCancel={onClose}
    >
      {reasons ? (
        <>
          <p>It does worse than the active version{active ? ` (${active})` : ''}:</p>
          <ul class="gate-reasons">
            {reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
          <div class="field">
            <label for="override-reason">Why promote it anyway?</label>
            <textarea
              id="override-reason"
              rows={3}
              maxLength={OVERRIDE_MAX}
              required
              value={override}
              aria-invalid={touched && overrideError ? true : undefined}
              aria-describedby="override-help override-error"
              onInput={(event) => setOverride(event.currentTarget.value)}
              onBlur={() => setTouched(true)}
            />
            <p class="hint" id="override-help">
              Required. Kept in the audit log with your name.
            </p>
            <p class="error field-error" id="override-error">
              {touched ? (overrideError ?? '') : ''}
            </p>
          </div>
        </>
      ) : (
        <p>
          Visitors get {version?.version}'s replies at once
          {active ? `; ${active} stays available to roll back to` : ''}. The promotion gate checks it against
          the active version first.
        </p>
      )}
    </ConfirmDialog>
  );
}

function RollbackDialog({
  open,
  active,
  onClose,
  onRolledBack,
}: {
  open: boolean;
  active: string | null;
  onClose: () => void;
  onRolledBack: (message: string) => void;
}) {
  const admin = useAdminApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => {
    setError(null);
    onClose();
  };
  return (
    <ConfirmDialog
      open={open}
      title="Roll back?"
      confirmLabel="Roll back"
      danger
      busy={busy}
      error={error}
      onCancel={close}
      onConfirm={() => {
        setBusy(true);
        setError(null);
        admin
          .rollback()
          .then((result) => {
            setBusy(false);
            onRolledBack(
              `Rolled back to ${result.version ?? 'the previous version'}${result.from ? ` (from ${result.from})` : ''}.`,
            );
          })
          .catch((failure: unknown) => {
            setBusy(false);
            setError(errorMessage(failure));
          });
      }}
    >
      <p>
        {active ? `${active} stops answering visitors and ` : ''}the version active before it takes over at
        once.
      </p>
    </ConfirmDialog>
  );
}

function VersionDetailPage({ id }: { id: string }) {
  const admin = useAdminApi();
  const [resource, reload] = useResource(() => admin.version(id), id);
  const [promoting, setPromoting] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const version = resource.data;

  return (
    <AdminPage
      title={
        <>
          Version {version?.version ?? id}{' '}
          {version ? (
            version.active ? (
              <StatusBadge status="active" label="Active" />
            ) : (
              <StatusBadge status={version.status} />
            )
          ) : null}
        </>
      }
      focusKey={`version-${id}`}
      actions={
        <>
          <Link href={`${CONSOLE_BASE}/versions`}>All versions</Link>
          {version && !version.active && version.status !== 'failed' ? (
            <button type="button" class="primary" onClick={() => setPromoting(true)}>
              Promote
            </button>
          ) : null}
        </>
      }
    >
      <p class="notice-line" role="status">
        {notice}
      </p>
      <Loaded resource={resource} reload={reload} what="the version">
        {(data) => (
          <>
            <Lineage version={data} />
            <Report version={data} />
          </>
        )}
      </Loaded>
      <PromoteDialog
        key={promoting ? 'open' : 'closed'}
        version={promoting && version ? version : null}
        active={null}
        onClose={() => setPromoting(false)}
        onPromoted={(message) => {
          setPromoting(false);
          setNotice(message);
          reload();
        }}
      />
    </AdminPage>
  );
}

function Lineage({ version }: { version: VersionDetail }) {
  const privacy = version.privacy;
  return (
    <section class="panel" aria-labelledby="lineage-title">
      <h2 id="lineage-title">Lineage</h2>
      <dl class="facts">
        <dt>Base model</dt>
        <dd class="mono">{version.baseModel}</dd>
        <dt>Dataset</dt>
        <dd class="mono">{version.datasetId ?? '—'}</dd>
        <dt>Training run</dt>
        <dd>
          {version.trainingJobId ? (
            <Link href={trainingJobPath(version.trainingJobId)}>Open the run</Link>
          ) : (
            '—'
          )}
        </dd>
        <dt>Hyper-parameters</dt>
        <dd>{hyperparameterSummary(version.hyperparameters)}</dd>
        <dt>Privacy</dt>
        <dd>
          {typeof privacy?.epsilon === 'number'
            ? `ε ${formatNumber(privacy.epsilon, 3)}, δ ${formatNumber(privacy.delta)}${privacy.unit ? `, per ${privacy.unit}` : ''}`
            : 'Trained without differential privacy'}
        </dd>
        <dt>Validation loss</dt>
        <dd>{formatNumber(num(version.metrics.validationLoss))}</dd>
        <dt>Created</dt>
        <dd>{formatDate(version.createdAt)}</dd>
        <dt>Promoted</dt>
        <dd>{formatDate(version.promotedAt)}</dd>
      </dl>
    </section>
  );
}

function Report({ version }: { version: VersionDetail }) {
  const report = version.report;
  if (!report) {
    return (
      <section class="panel" aria-labelledby="report-title">
        <h2 id="report-title">Evaluation report</h2>
        <p class="state state-empty">
          No evaluation report yet. Make one with <code>npx parley eval compare {version.version}</code>: it
          scores this version against the active one on the same data.
        </p>
      </section>
    );
  }
  const against = againstLabel(report.against);
  const rows = reportRows(report);
  return (
    <>
      <section class="panel" aria-labelledby="report-title">
        <h2 id="report-title">Evaluation report</h2>
        <p class="hint">
          Against {against}, {formatDate(report.createdAt)}: {report.settings.rankingCases} ranking cases,{' '}
          {report.settings.samples} generated replies, seed {report.settings.seed}.
        </p>
        <div class="table-wrap">
          <table class="data-table metrics-table">
            <caption class="visually-hidden">
              Metrics of {report.version} against {against}
            </caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col" class="num keep-case">
                  {report.version}
                </th>
                <th scope="col" class="num keep-case">
                  {against}
                </th>
                <th scope="col" class="num">
                  Change
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.name} data-metric={row.name}>
                  <th scope="row">
                    <span>{row.label}</span>
                    <span class="hint metric-help">{row.help}</span>
                  </th>
                  <td class="num">{row.value}</td>
                  <td class="num">{row.against}</td>
                  <td class={`num delta delta-${row.tone}`}>
                    {row.delta}
                    {row.verdict ? <span class="verdict"> {row.verdict}</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="panel" aria-labelledby="examples-title">
        <h2 id="examples-title">Example replies</h2>
        {report.examples.length === 0 ? (
          <p class="state state-empty">The report has no examples.</p>
        ) : (
          <ol class="examples">
            {report.examples.map((example) => (
              <Example key={example.id} example={example} version={report.version} against={against} />
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

function Example({ example, version, against }: { example: SideBySide; version: string; against: string }) {
  return (
    <li class="example">
      <ol class="example-context" aria-label="The conversation so far">
        {example.context.map((turn, i) => (
          <li key={i} class={`turn turn-${turn.role}`}>
            <span class="turn-role">{turn.role === 'customer' ? 'Customer' : 'Agent'}</span>
            <span class="text">{turn.text}</span>
          </li>
        ))}
      </ol>
      <div class="example-replies">
        <div class="reply reply-reference">
          <h3>The agent wrote</h3>
          <p class="text">{example.reference}</p>
        </div>
        <div class="reply reply-against">
          <h3>{against}</h3>
          <p class="text">{example.against || <em class="muted">(empty)</em>}</p>
        </div>
        <div class="reply reply-new">
          <h3>{version}</h3>
          <p class="text">{example.new || <em class="muted">(empty)</em>}</p>
        </div>
      </div>
    </li>
  );
}
