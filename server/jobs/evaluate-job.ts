/**
 * An `evaluate` job: `parley eval compare` run by a worker. The full report is stored on the
 * version, as the command stores it; the job keeps what a list needs.
 */
import type { ObjectId } from 'mongodb';
import type { Models } from '../db/models/index.js';
import type { BackendChoice } from '../ml/backend.js';
import type { EvaluateParams } from './job-worker.js';
import { enqueueJob } from './queue.js';

export function enqueueEvaluation(
  models: Pick<Models, 'WorkerJob'>,
  params: EvaluateParams,
  maxAttempts: number,
): Promise<ObjectId> {
  return enqueueJob(models, { kind: 'evaluate', params: { ...params }, maxAttempts });
}

/** The evaluation a worker runs; tensors load on first use, so a worker that only trains loads none. */
export function evaluationRunner(models: Models, backend: BackendChoice) {
  let backendReady: Promise<unknown> | null = null;
  return async (params: EvaluateParams, onProgress: (line: string) => void) => {
    const [{ useBackend }, { compareVersions }] = await Promise.all([
      import('../ml/backend.js'),
      import('../evaluate/compare.js'),
    ]);
    backendReady ??= useBackend(backend);
    await backendReady;
    const { version, ...options } = params;
    const report = await compareVersions(models, version, { ...options, onProgress });
    return {
      version: report.version,
      against: report.against,
      datasetId: report.datasetId,
      metrics: report.metrics,
    };
  };
}
