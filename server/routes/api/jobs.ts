/** Admin endpoints that start long work: an ingestion, a dataset build, a training run (202, then events). */
import { z } from 'zod';
import { recordAudit } from '../../audit.js';
import type { Endpoint } from '../../auth/policy.js';
import type { Models } from '../../db/models/index.js';
import { HttpError, notFound } from '../../errors.js';
import { sourceIdFor } from '../../ingest/sources.js';
import type { AdminJobs } from '../../jobs/admin-jobs.js';
import { PrivacyBudgetExceededError } from '../../privacy/dp/ledger.js';
import { TRAINING_DEFAULTS } from '../../realtime/agent/protocol.js';
import { parseInput } from './parse.js';

/** An ISO 8601 date or date-time string; numbers, booleans and null are not dates. */
const isoDate = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], {
    error: 'expected an ISO 8601 date such as 2024-05-01 or 2024-05-01T12:00:00Z',
  })
  .transform((value) => new Date(value));

const datasetBody = z.strictObject({
  sources: z.array(z.string().min(1).max(200)).min(1, { error: 'pick at least one source' }).max(20),
  since: isoDate.optional(),
  until: isoDate.optional(),
  validationPercent: z.number().int().min(0).max(50).default(10),
});

const trainingBody = z.strictObject({
  datasetId: z.string().regex(/^[0-9a-f]{24}$/, { error: 'expected a dataset id' }),
  mode: z.enum(['lora', 'full']).default(TRAINING_DEFAULTS.mode),
  epochs: z.number().int().min(1).max(100).default(TRAINING_DEFAULTS.epochs),
  learningRate: z.number().positive().max(1).default(TRAINING_DEFAULTS.learningRate),
  batchSize: z.number().int().min(1).max(1024).default(TRAINING_DEFAULTS.batchSize),
  loraRank: z.number().int().min(1).max(256).default(TRAINING_DEFAULTS.loraRank),
  seed: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .default(TRAINING_DEFAULTS.seed),
  dp: z
    .strictObject({
      targetEpsilon: z.number().positive().max(100),
      delta: z.number().positive().max(0.1).default(TRAINING_DEFAULTS.delta),
      unit: z.enum(['example', 'customer']).default('example'),
      maxGradNorm: z.number().positive().max(100).default(TRAINING_DEFAULTS.maxGradNorm),
    })
    .nullish(),
});

export function jobEndpoints(deps: { models: Models; jobs: AdminJobs }): Endpoint[] {
  const { models, jobs } = deps;
  return [
    {
      method: 'post',
      path: '/sources/:name/ingest',
      access: 'admin',
      async handler(req, res) {
        const source = String(req.params.name);
        if (!(await models.Source.exists({ _id: sourceIdFor(source) })))
          throw notFound(`No source named "${source}".`, 'source_not_found');
        jobs.startIngestion(source);
        await recordAudit(models, {
          action: 'ingest.start',
          actor: req.user!,
          target: { type: 'source', id: source },
        });
        res.status(202).json({ source });
      },
    },
    {
      method: 'post',
      path: '/datasets',
      access: 'admin',
      async handler(req, res) {
        const body = parseInput(datasetBody, req.body);
        const known = await models.Source.find(
          { _id: { $in: body.sources.map(sourceIdFor) } },
          { name: 1 },
        ).lean();
        const missing = body.sources.filter((name) => !known.some((s) => s.name === name));
        if (missing.length > 0)
          throw notFound(`No source named ${missing.map((m) => `"${m}"`).join(', ')}.`, 'source_not_found');
        jobs.startDatasetBuild(body);
        await recordAudit(models, {
          action: 'dataset.build',
          actor: req.user!,
          details: { sources: body.sources },
        });
        res.status(202).json({ started: true });
      },
    },
    {
      method: 'post',
      path: '/training-jobs',
      access: 'admin',
      async handler(req, res) {
        const body = parseInput(trainingBody, req.body);
        const dataset = await models.Dataset.findById(body.datasetId, { status: 1 }).lean();
        if (!dataset) throw notFound('No such dataset.', 'dataset_not_found');
        try {
          const jobId = await jobs.startTraining({
            datasetId: body.datasetId,
            mode: body.mode,
            epochs: body.epochs,
            learningRate: body.learningRate,
            batchSize: body.batchSize,
            loraRank: body.loraRank,
            seed: body.seed,
            ...(body.dp ? { dp: body.dp } : {}),
          });
          await recordAudit(models, {
            action: 'training.start',
            actor: req.user!,
            target: { type: 'training_job', id: jobId },
            details: { mode: body.mode, dp: Boolean(body.dp) },
          });
          res.status(202).json({ jobId });
        } catch (error) {
          if (error instanceof PrivacyBudgetExceededError)
            throw new HttpError(409, 'privacy_budget_exceeded', error.message);
          if (error instanceof RangeError || error instanceof TypeError)
            throw new HttpError(400, 'bad_request', error.message);
          throw error;
        }
      },
    },
  ];
}
