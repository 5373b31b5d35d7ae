import { type Command, InvalidArgumentError } from 'commander';
import { openArtifactStore } from '../artifacts/store.js';
import { WORKER_JOB_KINDS } from '../db/models/worker-job.js';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { evaluationRunner } from '../jobs/evaluate-job.js';
import { JobWorker, type WorkerEvent } from '../jobs/job-worker.js';
import type { WorkerJobKind } from '../jobs/queue.js';
import { privacyBudgetFromEnv } from '../privacy/dp/ledger.js';
import { say } from './output.js';

function kindList(value: string): WorkerJobKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(WORKER_JOB_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0 || kinds.length === 0)
    throw new InvalidArgumentError(`expected a comma-separated list of ${WORKER_JOB_KINDS.join(', ')}`);
  return kinds as WorkerJobKind[];
}

function describe(event: WorkerEvent): string {
  switch (event.event) {
    case 'leased':
      return `worker: ${event.kind} job ${event.jobId} (attempt ${event.attempt})`;
    case 'progress':
      return `worker: step ${event.step}/${event.totalSteps}, loss ${event.loss.toFixed(4)}`;
    case 'checkpoint':
      return `worker: checkpoint at step ${event.step}`;
    case 'finished':
      return `worker: job ${event.jobId} ${event.status}${event.error ? `: ${event.error}` : ''}`;
    case 'released':
      return `worker: job ${event.jobId} back in the queue (${event.reason})`;
    case 'lost':
      return `worker: job ${event.jobId} was taken over by another worker; stopped it here`;
  }
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'run queued training and evaluation jobs (on this machine, e.g. a GPU box), leasing them from MongoDB; ' +
        'SIGTERM or Ctrl-C stops after a checkpoint and puts the job back in the queue',
    )
    .option('--once', 'run one job, then exit')
    .option('--kinds <list>', `job kinds to run (${WORKER_JOB_KINDS.join(',')})`, kindList)
    .option('--json', 'print one JSON line per event on stdout')
    .action(async (flags: { once?: boolean; kinds?: WorkerJobKind[]; json?: boolean }) => {
      const env = loadEnv();
      const store = openArtifactStore(env.PARLEY_ARTIFACT_STORE);
      const db = await openDatabase(env, { shareRunning: true });
      const print = (event: WorkerEvent) => {
        if (flags.json)
          process.stdout.write(`${JSON.stringify({ ...event, time: new Date().toISOString() })}\n`);
        else if (event.event !== 'progress') say(describe(event));
      };
      const worker = new JobWorker({
        models: db.models,
        store,
        leaseMs: env.PARLEY_WORKER_LEASE_MS,
        pollMs: env.PARLEY_JOB_POLL_MS,
        ...(flags.kinds ? { kinds: flags.kinds } : {}),
        train: { privacyBudget: privacyBudgetFromEnv(env), backend: env.TFJS_BACKEND },
        evaluate: evaluationRunner(db.models, env.TFJS_BACKEND),
        onEvent: print,
      });
      if (!flags.json)
        say(`worker ${worker.owner}: waiting for jobs (artifacts in the ${store.description})`);
      const stop = () => void worker.stop();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        await worker.start({ once: Boolean(flags.once) });
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        await db.close();
      }
    });
}
