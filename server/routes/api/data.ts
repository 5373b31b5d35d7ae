/** What admins read about the data: sources and their runs (PII reports), quarantine, datasets, privacy spend, training jobs. */
import { ObjectId } from 'mongodb';
import { z } from 'zod';
import { recordAudit } from '../../audit.js';
import type { Endpoint } from '../../auth/policy.js';
import { presentDataset } from '../../datasets/present.js';
import type { Models } from '../../db/models/index.js';
import type { Env } from '../../env.js';
import { conflict, notFound } from '../../errors.js';
import { presentRun, presentSource } from '../../ingest/present.js';
import { sourceIdFor } from '../../ingest/sources.js';
import { cancelTraining } from '../../jobs/training-queue.js';
import { cumulativeSpend, privacyBudgetFromEnv } from '../../privacy/dp/ledger.js';
import { parseInput } from './parse.js';

const limitQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

async function sourceOrThrow(models: Models, name: string) {
  const source = await models.Source.findById(sourceIdFor(name)).lean();
  if (!source) throw notFound(`No source named "${name}".`, 'source_not_found');
  return source;
}

const jobView = (job: Record<string, unknown> & { _id: ObjectId }) => {
  const { _id, cancelRequested, jobDir: _dir, checkpointPath: _checkpoint, ...rest } = job;
  return { id: _id.toHexString(), ...rest, cancelRequested: Boolean(cancelRequested) };
};

export function dataEndpoints(deps: {
  models: Models;
  env: Pick<Env, 'PARLEY_PRIVACY_BUDGET_EPSILON'>;
}): Endpoint[] {
  const { models } = deps;
  return [
    {
      method: 'get',
      path: '/sources',
      access: 'admin',
      async handler(_req, res) {
        const sources = await models.Source.find({}).sort({ name: 1 }).lean();
        const listed = [];
        for (const source of sources) {
          const lastRun = await models.IngestionRun.findOne({ sourceId: source._id })
            .sort({ startedAt: -1 })
            .lean();
          const quarantined = await models.QuarantinedDocument.countDocuments({ sourceId: source._id });
          listed.push({ ...presentSource(source, lastRun), quarantined });
        }
        res.json({ sources: listed });
      },
    },
    {
      method: 'get',
      path: '/sources/:name/runs',
      access: 'admin',
      async handler(req, res) {
        const { limit } = parseInput(limitQuery, req.query);
        const source = await sourceOrThrow(models, String(req.params.name));
        const runs = await models.IngestionRun.find({ sourceId: source._id })
          .sort({ startedAt: -1 })
          .limit(limit)
          .lean();
        res.json({ runs: runs.map((run) => ({ ...presentRun(run), pii: run.pii ?? null })) });
      },
    },
    {
      method: 'get',
      path: '/sources/:name/quarantine',
      access: 'admin',
      async handler(req, res) {
        const { limit } = parseInput(limitQuery, req.query);
        const source = await sourceOrThrow(models, String(req.params.name));
        const documents = await models.QuarantinedDocument.find({ sourceId: source._id })
          .sort({ _id: -1 })
          .limit(limit)
          .lean();
        res.json({
          documents: documents.map((d) => ({
            id: d._id.toHexString(),
            sourceDocumentId: String(d.sourceDocumentId ?? ''),
            reason: d.reason,
            path: d.path ?? null,
          })),
        });
      },
    },
    {
      method: 'get',
      path: '/datasets',
      access: 'admin',
      async handler(_req, res) {
        const [datasets, sources] = await Promise.all([
          models.Dataset.find({}).sort({ createdAt: -1 }).lean(),
          models.Source.find({}, { name: 1 }).lean(),
        ]);
        const names = new Map(sources.map((s) => [s._id.toHexString(), s.name]));
        res.json({ datasets: datasets.map((d) => presentDataset(d, names)) });
      },
    },
    {
      method: 'get',
      path: '/privacy',
      access: 'admin',
      async handler(_req, res) {
        const datasets = await models.Dataset.find({ status: 'ready' }, { _id: 1, name: 1 })
          .sort({ createdAt: -1 })
          .lean();
        const spend = [];
        for (const dataset of datasets)
          spend.push({ dataset: dataset.name, ...(await cumulativeSpend(models, dataset._id)) });
        res.json({ budget: privacyBudgetFromEnv(deps.env), spend });
      },
    },
    {
      method: 'get',
      path: '/training-jobs',
      access: 'admin',
      async handler(req, res) {
        const { limit } = parseInput(limitQuery, req.query);
        const jobs = await models.TrainingJob.find({}, { metrics: 0, events: 0 })
          .sort({ createdAt: -1 })
          .limit(limit)
          .lean();
        res.json({ jobs: jobs.map((job) => jobView(job as never)) });
      },
    },
    {
      method: 'get',
      path: '/training-jobs/:id',
      access: 'admin',
      async handler(req, res) {
        const id = String(req.params.id);
        const job =
          ObjectId.isValid(id) && id.length === 24 ? await models.TrainingJob.findById(id).lean() : null;
        if (!job) throw notFound('No such training job.', 'job_not_found');
        res.json(jobView(job as never));
      },
    },
    {
      method: 'post',
      path: '/training-jobs/:id/cancel',
      access: 'admin',
      async handler(req, res) {
        const id = String(req.params.id);
        if (!(await cancelTraining(models, id)))
          throw conflict('That job is not queued or running.', 'job_not_running');
        await recordAudit(models, {
          action: 'training.cancel',
          actor: req.user!,
          target: { type: 'training_job', id },
        });
        res.json({ ok: true });
      },
    },
  ];
}
