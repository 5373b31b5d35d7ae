/**
 * Training: a form with the hyper-parameters (the defaults of `parley train`, help for each) and
 * optional differential privacy; the runs so far; one run live: loss and validation loss by step,
 * progress, speed, ETA, ε so far, the event log, and Cancel.
 */
import { Fragment } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { TrainingDoneEvent } from '../../../server/realtime/agent/protocol.js';
import type {
  DatasetView,
  JobLogEntry,
  StepMetrics,
  TrainingJobDetail,
  TrainingJobView,
} from '../admin-api.js';
import { errorMessage } from '../api.js';
import { AdminPage, describedBy, Field, Loaded, StatusBadge, TextField } from '../components/admin.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { LossChart } from '../components/loss-chart.js';
import { ProgressBar } from '../components/progress-bar.js';
import { useConsole } from '../context.js';
import { formatCount, formatDate, formatDuration, formatNumber } from '../format.js';
import { useAdminApi, useResource } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { CONSOLE_BASE, trainingJobPath, versionPath } from '../routes.js';
import {
  isFinished,
  jobFigures,
  lossSeries,
  mergeLog,
  mergeSteps,
  stepFromEvent,
  TRAINING_HELP,
  type TrainingField,
  type TrainingForm,
  trainingFormDefaults,
  trainingRequest,
} from '../training-state.js';

export function TrainingPage({ jobId }: { jobId: string | null }) {
  return jobId ? <TrainingJobPage id={jobId} /> : <TrainingHome />;
}

function TrainingHome() {
  const admin = useAdminApi();
  const { live } = useConsole();
  const [resource, reload] = useResource(async () => {
    const [jobs, datasets] = await Promise.all([admin.trainingJobs(), admin.datasets()]);
    return { jobs, datasets };
  });
  // Runs started elsewhere, or finishing: the list follows.
  useEffect(() => live.on('training:done', () => reload()), [live]);

  return (
    <AdminPage
      title="Training"
      focusKey="training"
      intro="Fine-tune the base model on a dataset. The run registers a candidate version to compare and promote."
    >
      <Loaded resource={resource} reload={reload} what="datasets and training runs">
        {(data) => (
          <>
            <section class="panel" aria-labelledby="train-title">
              <h2 id="train-title">Start a training run</h2>
              <TrainingFormView datasets={data.datasets} />
            </section>
            <section class="panel" aria-labelledby="runs-title">
              <h2 id="runs-title">Runs</h2>
              <JobList jobs={data.jobs} datasets={data.datasets} />
            </section>
          </>
        )}
      </Loaded>
    </AdminPage>
  );
}

function TrainingFormView({ datasets }: { datasets: DatasetView[] }) {
  const admin = useAdminApi();
  const ready = datasets.filter((dataset) => dataset.status === 'ready');
  const [form, setForm] = useState<TrainingForm>(() => trainingFormDefaults(ready[0]?.id ?? ''));
  const [errors, setErrors] = useState<Partial<Record<TrainingField, string>>>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const set = <K extends TrainingField>(field: K, value: TrainingForm[K]) => {
    setForm((current) => ({ ...current, [field]: value }));
    if (errors[field]) setErrors((current) => ({ ...current, [field]: undefined }));
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const result = trainingRequest(form);
    if (!result.ok) {
      setErrors(result.errors);
      const first = Object.keys(result.errors)[0];
      if (first) document.getElementById(`train-${first}`)?.focus();
      return;
    }
    setErrors({});
    setServerError(null);
    setBusy(true);
    try {
      const { jobId } = await admin.startTraining(result.request);
      navigate(trainingJobPath(jobId));
    } catch (failure) {
      setServerError(errorMessage(failure));
      setBusy(false);
    }
  };

  if (ready.length === 0) {
    return (
      <p class="state state-empty">
        No dataset is ready to train on. <Link href={`${CONSOLE_BASE}/datasets`}>Build one</Link> first.
      </p>
    );
  }

  const numberField = (
    field: Exclude<TrainingField, 'datasetId' | 'mode' | 'dp' | 'unit'>,
    label: string,
  ) => (
    <TextField
      id={`train-${field}`}
      label={label}
      help={TRAINING_HELP[field]}
      error={errors[field]}
      inputMode="decimal"
      autocomplete="off"
      value={form[field]}
      onValue={(value) => set(field, value)}
    />
  );

  return (
    <form class="admin-form training-form" onSubmit={(event) => void submit(event)} noValidate>
      <div class="form-grid">
        <Field id="train-datasetId" label="Dataset" help={TRAINING_HELP.datasetId} error={errors.datasetId}>
          <select
            {...describedBy('train-datasetId', errors.datasetId)}
            value={form.datasetId}
            onChange={(event) => set('datasetId', event.currentTarget.value)}
          >
            {ready.map((dataset) => (
              <option key={dataset.id} value={dataset.id}>
                {dataset.name} · {formatCount(dataset.stats?.trainExamples ?? dataset.stats?.examples)}{' '}
                examples
              </option>
            ))}
          </select>
        </Field>
        <Field id="train-mode" label="Method" help={TRAINING_HELP.mode}>
          <select
            {...describedBy('train-mode', undefined)}
            value={form.mode}
            onChange={(event) => set('mode', event.currentTarget.value as TrainingForm['mode'])}
          >
            <option value="lora">LoRA adapters</option>
            <option value="full">Full fine-tuning</option>
          </select>
        </Field>
        {numberField('epochs', 'Epochs')}
        {numberField('learningRate', 'Learning rate')}
        {numberField('batchSize', 'Batch size')}
        {form.mode === 'lora' ? numberField('loraRank', 'LoRA rank') : null}
        {numberField('seed', 'Seed')}
      </div>
      <fieldset class="dp-fieldset">
        <legend>Differential privacy</legend>
        <label class="check">
          <input
            type="checkbox"
            checked={form.dp}
            onChange={(event) => set('dp', event.currentTarget.checked)}
            aria-describedby="train-dp-help"
          />
          Train with differential privacy (DP-SGD)
        </label>
        <p class="hint" id="train-dp-help">
          Clips each contribution and adds noise, so the model cannot reveal much about any one example or
          customer. The ε spent counts against the privacy budget of the data.
        </p>
        {form.dp ? (
          <div class="form-grid">
            {numberField('targetEpsilon', 'Target ε')}
            <Field id="train-unit" label="Privacy unit" help={TRAINING_HELP.unit}>
              <select
                {...describedBy('train-unit', undefined)}
                value={form.unit}
                onChange={(event) => set('unit', event.currentTarget.value as TrainingForm['unit'])}
              >
                <option value="example">One example</option>
                <option value="customer">One customer</option>
              </select>
            </Field>
            {numberField('delta', 'δ')}
            {numberField('maxGradNorm', 'Clipping norm')}
          </div>
        ) : null}
      </fieldset>
      <p class="error form-error" role="alert">
        {serverError}
      </p>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Starting…' : 'Start training'}
        </button>
        <button
          type="button"
          onClick={() => {
            setForm(trainingFormDefaults(form.datasetId));
            setErrors({});
          }}
        >
          Reset to defaults
        </button>
      </div>
    </form>
  );
}

function JobList({ jobs, datasets }: { jobs: TrainingJobView[]; datasets: DatasetView[] }) {
  if (jobs.length === 0) return <p class="state state-empty">No training runs yet.</p>;
  const names = new Map(datasets.map((dataset) => [dataset.id, dataset.name]));
  return (
    <div class="table-wrap">
      <table class="data-table">
        <caption class="visually-hidden">Training runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Dataset</th>
            <th scope="col" class="num">
              Steps
            </th>
            <th scope="col" class="num">
              Loss
            </th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id}>
              <th scope="row">
                <Link href={trainingJobPath(job.id)} class="mono">
                  {job.id.slice(-8)}
                </Link>
              </th>
              <td>
                <StatusBadge status={job.status} />
              </td>
              <td>{names.get(job.datasetId) ?? job.datasetId.slice(0, 8)}</td>
              <td class="num">
                {formatCount(job.progress?.step)} / {formatCount(job.progress?.totalSteps)}
              </td>
              <td class="num">{formatNumber(job.progress?.trainLoss)}</td>
              <td>{formatDate(job.startedAt ?? job.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TrainingJobPage({ id }: { id: string }) {
  const admin = useAdminApi();
  const { live } = useConsole();
  const [resource, reload] = useResource(() => admin.trainingJob(id), id);
  const [liveSteps, setLiveSteps] = useState<StepMetrics[]>([]);
  const [liveLog, setLiveLog] = useState<JobLogEntry[]>([]);
  const [liveTotal, setLiveTotal] = useState<number | null>(null);
  const [done, setDone] = useState<TrainingDoneEvent | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [cancelBusy, setCancelBusy] = useState(false);
  const [cancelError, setCancelError] = useState<string | null>(null);

  useEffect(() => {
    setLiveSteps([]);
    setLiveLog([]);
    setLiveTotal(null);
    setDone(null);
    const off = [
      live.on('training:progress', (event) => {
        if (event.jobId !== id) return;
        setLiveTotal(event.totalSteps);
        setLiveSteps((current) => mergeSteps(current, [stepFromEvent(event)]));
      }),
      live.on('training:event', (event) => {
        if (event.jobId !== id) return;
        setLiveLog((current) =>
          mergeLog(current, { level: event.level, message: event.message, time: event.time }),
        );
      }),
      live.on('training:done', (event) => {
        if (event.jobId !== id) return;
        setDone(event);
        reload();
      }),
    ];
    return () => {
      for (const unsubscribe of off) unsubscribe();
    };
  }, [live, id]);

  const job = resource.data;
  const steps = useMemo(() => mergeSteps(job?.metrics ?? [], liveSteps), [job, liveSteps]);
  const series = useMemo(() => lossSeries(steps), [steps]);
  const log = useMemo(
    () => liveLog.reduce((all, entry) => mergeLog(all, entry), job?.events ?? []),
    [job, liveLog],
  );
  const status = job ? (done && !isFinished(job.status) ? done.status : job.status) : null;

  const cancel = () => {
    setCancelBusy(true);
    setCancelError(null);
    admin
      .cancelTraining(id)
      .then(() => {
        setCancelBusy(false);
        setCancelling(false);
        reload();
      })
      .catch((failure: unknown) => {
        setCancelBusy(false);
        setCancelError(errorMessage(failure));
      });
  };

  return (
    <AdminPage
      title={
        <>
          Training run <span class="mono">{id.slice(-8)}</span>{' '}
          {status ? <StatusBadge status={status} /> : null}
        </>
      }
      focusKey={`job-${id}`}
      wide
      actions={
        <>
          <Link href={`${CONSOLE_BASE}/training`}>All runs</Link>
          {status && !isFinished(status) ? (
            <button
              type="button"
              class="danger"
              onClick={() => setCancelling(true)}
              disabled={job?.cancelRequested}
            >
              {job?.cancelRequested ? 'Cancelling…' : 'Cancel run'}
            </button>
          ) : null}
        </>
      }
    >
      <Loaded resource={resource} reload={reload} what="the training run">
        {(data) => (
          <JobView
            job={data}
            status={status ?? data.status}
            steps={steps}
            series={series}
            log={log}
            liveTotal={liveTotal}
            done={done}
          />
        )}
      </Loaded>
      <ConfirmDialog
        open={cancelling}
        title="Cancel this run?"
        confirmLabel="Cancel the run"
        danger
        busy={cancelBusy}
        error={cancelError}
        onConfirm={cancel}
        onCancel={() => {
          setCancelling(false);
          setCancelError(null);
        }}
      >
        <p>It stops at its next step with a checkpoint. No version is registered.</p>
      </ConfirmDialog>
    </AdminPage>
  );
}

function JobView({
  job,
  status,
  steps,
  series,
  log,
  liveTotal,
  done,
}: {
  job: TrainingJobDetail;
  status: string;
  steps: StepMetrics[];
  series: ReturnType<typeof lossSeries>;
  log: JobLogEntry[];
  liveTotal: number | null;
  done: TrainingDoneEvent | null;
}) {
  const figures = jobFigures({ ...job, status: status as TrainingJobDetail['status'] }, steps, liveTotal);
  const admin = useAdminApi();
  // After a reload the job names its version by id only: read its label.
  const [label, setLabel] = useState<string | null>(null);
  useEffect(() => {
    if (done?.version || !job.outputModelVersionId) return;
    admin
      .version(job.outputModelVersionId)
      .then((found) => setLabel(found.version))
      .catch(() => undefined);
  }, [job.outputModelVersionId, done?.version]);
  const version = done?.version ?? label;
  const logRef = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const element = logRef.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [log.length]);

  return (
    <>
      <section class="panel" aria-labelledby="progress-title">
        <h2 id="progress-title" class="visually-hidden">
          Progress
        </h2>
        <ProgressBar
          label="Steps"
          value={figures.step}
          max={figures.totalSteps || null}
          text={`${formatCount(figures.step)} of ${figures.totalSteps ? formatCount(figures.totalSteps) : '…'} (epoch ${figures.epoch || 1})`}
        />
        <dl class="figures">
          <div>
            <dt>Training loss</dt>
            <dd>{formatNumber(figures.loss)}</dd>
          </div>
          <div>
            <dt>Validation loss</dt>
            <dd>{formatNumber(figures.validationLoss)}</dd>
          </div>
          <div>
            <dt>Tokens/s</dt>
            <dd>{formatCount(figures.tokensPerSecond)}</dd>
          </div>
          <div>
            <dt>Time left</dt>
            <dd>{isFinished(status) ? 'done' : formatDuration(figures.etaSeconds)}</dd>
          </div>
          <div>
            <dt class="keep-case">ε so far</dt>
            <dd>
              {job.privacy?.enabled
                ? `${formatNumber(figures.epsilon, 3)}${job.privacy.targetEpsilon ? ` of ${formatNumber(job.privacy.targetEpsilon, 3)}` : ''}`
                : 'no DP'}
            </dd>
          </div>
        </dl>
        <p class="run-outcome" role="status">
          {status === 'succeeded'
            ? version || job.outputModelVersionId
              ? 'Finished. '
              : 'Finished.'
            : status === 'failed'
              ? `Failed: ${job.error ?? done?.error ?? 'see the log'}`
              : status === 'cancelled'
                ? 'Cancelled.'
                : ''}
          {status === 'succeeded' && (version || job.outputModelVersionId) ? (
            <Link href={versionPath(version ?? job.outputModelVersionId!)}>
              {version ? `Open ${version}` : 'Open the new version'} to compare and promote it
            </Link>
          ) : null}
        </p>
      </section>
      <section class="panel" aria-labelledby="chart-title">
        <h2 id="chart-title">Loss by step</h2>
        <LossChart series={series} label="Training and validation loss by step" />
      </section>
      <section class="panel" aria-labelledby="log-title">
        <h2 id="log-title">Event log</h2>
        {log.length === 0 ? (
          <p class="state state-empty">Nothing logged yet.</p>
        ) : (
          <ol class="event-log" ref={logRef} aria-label="Training events">
            {log.map((entry, i) => (
              <li key={i} class={`log-${entry.level}`}>
                <time dateTime={entry.time}>{new Date(entry.time).toLocaleTimeString('en')}</time>
                <span class="log-level">{entry.level}</span>
                <span class="log-message">{entry.message}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
      <section class="panel" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <dl class="facts">
          <dt>Dataset</dt>
          <dd class="mono">{job.datasetId}</dd>
          <dt>Base model</dt>
          <dd class="mono">{job.baseModel}</dd>
          <dt>Method</dt>
          <dd>{job.mode === 'full' ? 'Full fine-tuning' : 'LoRA adapters'}</dd>
          {Object.entries(job.hyperparameters)
            .filter(([, value]) => value !== null && typeof value !== 'object')
            .map(([key, value]) => (
              <Fragment key={key}>
                <dt>{key}</dt>
                <dd>{String(value)}</dd>
              </Fragment>
            ))}
          <dt>Started</dt>
          <dd>{formatDate(job.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>{formatDate(job.finishedAt)}</dd>
        </dl>
      </section>
    </>
  );
}
