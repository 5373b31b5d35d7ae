/**
 * Sources: where the training conversations come from, with their last run and what was
 * quarantined, and Add a source; one source's runs with their PII reports, its quarantined
 * documents with reasons, its field mapping to edit (not a widget source's), and Run ingestion
 * with live progress (`ingest:progress`, then `ingest:done`).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { IngestDoneEvent, IngestProgressEvent } from '../../../server/realtime/agent/protocol.js';
import type { RunView, RunWithPii, SourceView } from '../admin-api.js';
import { errorMessage } from '../api.js';
import { AdminPage, Loaded, StatusBadge } from '../components/admin.js';
import { ProgressBar } from '../components/progress-bar.js';
import { AddSourceForm, EditMappingForm } from '../components/source-forms.js';
import { useConsole } from '../context.js';
import { formatCount, formatDate, formatDuration } from '../format.js';
import { useAdminApi, useResource } from '../hooks.js';
import { Link } from '../router.js';
import { CONSOLE_BASE, sourcePath } from '../routes.js';

export function SourcesPage({ source }: { source: string | null }) {
  return source ? <SourceDetail name={source} /> : <SourceList />;
}

interface Ingestion {
  starting: boolean;
  progress: IngestProgressEvent | null;
  done: IngestDoneEvent | null;
  error: string | null;
  running: boolean;
}

/** Runs and follows the ingestion of one source; `onDone` after it finishes. */
function useIngestion(source: string, onDone: () => void) {
  const admin = useAdminApi();
  const { live } = useConsole();
  const [state, setState] = useState<Ingestion>({
    starting: false,
    progress: null,
    done: null,
    error: null,
    running: false,
  });
  useEffect(() => {
    const off = [
      live.on('ingest:progress', (event) => {
        if (event.source === source)
          setState((current) => ({ ...current, running: true, starting: false, progress: event }));
      }),
      live.on('ingest:done', (event) => {
        if (event.source !== source) return;
        setState((current) => ({ ...current, running: false, starting: false, done: event }));
        onDone();
      }),
    ];
    return () => {
      for (const unsubscribe of off) unsubscribe();
    };
  }, [live, source]);
  const start = () => {
    setState({ starting: true, progress: null, done: null, error: null, running: true });
    admin.ingest(source).catch((failure: unknown) =>
      setState((current) => ({
        ...current,
        starting: false,
        running: false,
        error: errorMessage(failure),
      })),
    );
  };
  return { ...state, start };
}

function IngestionStatus({ ingestion }: { ingestion: ReturnType<typeof useIngestion> }) {
  const { progress, done, error, running } = ingestion;
  if (error)
    return (
      <p class="error small" role="alert">
        {error}
      </p>
    );
  if (running) {
    const total = progress?.total ?? null;
    const read = progress?.read ?? 0;
    return (
      <ProgressBar
        label="Ingesting"
        value={read}
        max={total}
        text={
          progress
            ? `${formatCount(read)}${total !== null ? ` of ${formatCount(total)}` : ''} · ${formatCount(progress.rate)}/s · ${
                progress.etaSeconds !== null
                  ? `${formatDuration(progress.etaSeconds)} left`
                  : 'time left unknown'
              }`
            : 'starting…'
        }
      />
    );
  }
  if (done)
    return (
      <p class={done.error ? 'error small' : 'ok small'} role="status">
        {done.error
          ? `Ingestion failed: ${done.error}`
          : `Ingested ${formatCount(done.summary?.conversations)} conversations (${formatCount(done.summary?.messages)} messages, ${formatCount(done.summary?.quarantined)} quarantined) in ${formatDuration((done.summary?.durationMs ?? 0) / 1000)}.`}
      </p>
    );
  return null;
}

function SourceList() {
  const admin = useAdminApi();
  const [resource, reload] = useResource(() => admin.sources());
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const addButton = useRef<HTMLButtonElement>(null);
  const stopAdding = () => {
    setAdding(false);
    // The button comes back after this render: give it the focus then.
    setTimeout(() => addButton.current?.focus());
  };
  return (
    <AdminPage
      title="Sources"
      focusKey="sources"
      intro="Support logs Parley reads and anonymizes. Each site's own widget chats are a source too (widget:name)."
      actions={
        adding ? null : (
          <button
            type="button"
            class="primary"
            ref={addButton}
            onClick={() => {
              setNotice(null);
              setAdding(true);
            }}
          >
            Add a source
          </button>
        )
      }
    >
      <p class="notice-line" role="status">
        {notice}
      </p>
      {adding ? (
        <section class="panel" aria-labelledby="add-source-title">
          <h2 id="add-source-title">Add a source</h2>
          <AddSourceForm
            onCancel={stopAdding}
            onAdded={(source) => {
              stopAdding();
              setNotice(`Source ${source.name} added. Run its ingestion to read it.`);
              reload();
            }}
          />
        </section>
      ) : null}
      <Loaded
        resource={resource}
        reload={reload}
        what="sources"
        isEmpty={(sources) => sources.length === 0}
        empty={
          <>
            No sources yet. Add one here or with <code>npx parley source add</code>, or add a site: its chats
            become a source.
          </>
        }
      >
        {(sources) => (
          <div class="table-wrap">
            <table class="data-table sources-table">
              <caption class="visually-hidden">Sources</caption>
              <thead>
                <tr>
                  <th scope="col">Source</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Last run</th>
                  <th scope="col" class="num">
                    Conversations
                  </th>
                  <th scope="col" class="num">
                    Quarantined
                  </th>
                  <th scope="col" class="ingest-col">
                    Ingestion
                  </th>
                </tr>
              </thead>
              <tbody>
                {sources.map((source) => (
                  <SourceRow key={source.name} source={source} onDone={reload} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
    </AdminPage>
  );
}

function SourceRow({ source, onDone }: { source: SourceView; onDone: () => void }) {
  const ingestion = useIngestion(source.name, onDone);
  return (
    <tr data-source={source.name}>
      <th scope="row">
        <Link href={sourcePath(source.name)} class="mono">
          {source.name}
        </Link>
      </th>
      <td>
        {source.kind}
        {source.collection ? <span class="hint"> · {source.collection}</span> : null}
      </td>
      <td>
        <LastRun run={source.lastRun} />
      </td>
      <td class="num">{formatCount(source.lastRun?.counts.conversations)}</td>
      <td class="num">{formatCount(source.quarantined)}</td>
      <td class="ingest-col">
        <div class="ingest-cell">
          <button type="button" onClick={ingestion.start} disabled={ingestion.running}>
            Run ingestion<span class="visually-hidden"> of {source.name}</span>
          </button>
          <IngestionStatus ingestion={ingestion} />
        </div>
      </td>
    </tr>
  );
}

function LastRun({ run }: { run: RunView | null }) {
  if (!run) return <span class="muted">never</span>;
  return (
    <>
      <StatusBadge status={run.status} /> {formatDate(run.finishedAt ?? run.startedAt)}
    </>
  );
}

function SourceDetail({ name }: { name: string }) {
  const admin = useAdminApi();
  const [resource, reload] = useResource(async () => {
    const [sources, runs, quarantine] = await Promise.all([
      admin.sources(),
      admin.runs(name),
      admin.quarantine(name),
    ]);
    return { source: sources.find((s) => s.name === name) ?? null, runs, quarantine };
  }, name);
  const ingestion = useIngestion(name, reload);
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  return (
    <AdminPage
      title={
        <>
          Source <span class="mono">{name}</span>
        </>
      }
      focusKey={`source-${name}`}
      actions={
        <>
          <Link href={`${CONSOLE_BASE}/sources`}>All sources</Link>
          <button type="button" class="primary" onClick={ingestion.start} disabled={ingestion.running}>
            Run ingestion
          </button>
        </>
      }
    >
      <div class="ingest-panel">
        <IngestionStatus ingestion={ingestion} />
      </div>
      <p class="notice-line" role="status">
        {notice}
      </p>
      <Loaded resource={resource} reload={reload} what="the source">
        {(data) => (
          <>
            {data.source ? (
              <section class="panel" aria-labelledby="source-title">
                <h2 id="source-title">About</h2>
                <dl class="facts">
                  <dt>Kind</dt>
                  <dd>{data.source.kind}</dd>
                  <dt>Reads</dt>
                  <dd class="mono">
                    {[data.source.database, data.source.collection].filter(Boolean).join('.') || '—'} (
                    {data.source.shape})
                  </dd>
                  <dt>Read up to</dt>
                  <dd>{data.source.watermark ? formatDate(data.source.watermark.ts) : 'nothing read yet'}</dd>
                </dl>
              </section>
            ) : null}
            {data.source && data.source.kind !== 'widget' ? (
              <section class="panel" aria-labelledby="mapping-title">
                <div class="panel-head">
                  <h2 id="mapping-title">Field mapping</h2>
                  {editing ? null : (
                    <button
                      type="button"
                      class="push-right"
                      onClick={() => {
                        setNotice(null);
                        setEditing(true);
                      }}
                    >
                      Edit field mapping
                    </button>
                  )}
                </div>
                {editing ? (
                  <EditMappingForm
                    source={name}
                    onCancel={() => setEditing(false)}
                    onSaved={(saved) => {
                      setEditing(false);
                      setNotice(`Field mapping of ${saved.name} saved: it reads ${saved.shape}.`);
                      reload();
                    }}
                  />
                ) : (
                  <p>
                    Reads <span class="mono">{data.source.shape}</span>: one{' '}
                    {data.source.shape === 'conversation-per-document' ? 'conversation' : 'message'} per
                    document.
                  </p>
                )}
              </section>
            ) : null}
            <section class="panel" aria-labelledby="runs-title">
              <h2 id="runs-title">Runs</h2>
              <RunsTable runs={data.runs} />
            </section>
            <section class="panel" aria-labelledby="quarantine-title">
              <h2 id="quarantine-title">Quarantined documents</h2>
              {data.quarantine.length === 0 ? (
                <p class="state state-empty">Nothing quarantined: every document read could be used.</p>
              ) : (
                <div class="table-wrap">
                  <table class="data-table">
                    <caption class="visually-hidden">Quarantined documents, newest first</caption>
                    <thead>
                      <tr>
                        <th scope="col">Document</th>
                        <th scope="col">Reason</th>
                        <th scope="col">Field</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.quarantine.map((doc) => (
                        <tr key={doc.id}>
                          <th scope="row" class="mono">
                            {doc.sourceDocumentId}
                          </th>
                          <td>{doc.reason}</td>
                          <td class="mono">{doc.path ?? '—'}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          </>
        )}
      </Loaded>
    </AdminPage>
  );
}

function RunsTable({ runs }: { runs: RunWithPii[] }) {
  if (runs.length === 0) return <p class="state state-empty">Never ingested.</p>;
  return (
    <div class="table-wrap">
      <table class="data-table">
        <caption class="visually-hidden">Ingestion runs, newest first, with the PII found</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Read
            </th>
            <th scope="col" class="num">
              Conversations
            </th>
            <th scope="col" class="num">
              Messages
            </th>
            <th scope="col" class="num">
              Quarantined
            </th>
            <th scope="col">PII found (by type)</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => {
            const entities = Object.entries(run.pii?.entities ?? {}).sort((a, b) => b[1] - a[1]);
            return (
              <tr key={run.id}>
                <th scope="row">{formatDate(run.startedAt)}</th>
                <td>
                  <StatusBadge status={run.status} />
                </td>
                <td class="num">{formatCount(run.counts.read)}</td>
                <td class="num">{formatCount(run.counts.conversations)}</td>
                <td class="num">{formatCount(run.counts.messages)}</td>
                <td class="num">{formatCount(run.counts.quarantined)}</td>
                <td>
                  {entities.length === 0 ? (
                    <span class="muted">none</span>
                  ) : (
                    <ul class="pii-list">
                      {entities.map(([type, count]) => (
                        <li key={type}>
                          <span class="mono">{type}</span> {formatCount(count)}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
