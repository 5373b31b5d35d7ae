/**
 * Training through the job queue: the web server (or any caller) checks and records the run,
 * then queues it with references to its artifacts; whichever worker leases it runs it.
 */
import type { ObjectId } from 'mongodb';
import { type ArtifactRef, type ArtifactStore, artifactRef } from '../artifacts/store.js';
import type { Models } from '../db/models/index.js';
import {
  cancelTrainingJob,
  prepareTrainingJob,
  type TrainJobDeps,
  type TrainJobOptions,
} from '../train/job.js';
import { asObjectId, cancelJob, enqueueJob } from './queue.js';

/** What a queued `train` job carries. */
export interface TrainParams {
  trainingJobId: string;
  artifacts: { dataset: ArtifactRef; base: ArtifactRef; job: ArtifactRef };
}

/** Records the training job (status queued) and queues it; resolves with the training job's id. */
export async function enqueueTraining(
  deps: TrainJobDeps & { store: ArtifactStore; maxAttempts: number },
  options: TrainJobOptions,
): Promise<{ jobId: string; queueJobId: ObjectId }> {
  const { jobId, order } = await prepareTrainingJob(deps, options);
  const params: TrainParams = {
    trainingJobId: jobId,
    artifacts: {
      dataset: artifactRef(deps.store, order.datasetDir),
      base: artifactRef(deps.store, order.base),
      job: artifactRef(deps.store, order.jobDir),
    },
  };
  const queueJobId = await enqueueJob(deps.models, {
    kind: 'train',
    params: params as unknown as Record<string, unknown>,
    trainingJobId: asObjectId(jobId),
    maxAttempts: deps.maxAttempts,
  });
  return { jobId, queueJobId };
}

/**
 * Cancels a training job wherever it is: still queued, it ends now; leased, its worker stops it
 * after the current step with a checkpoint; run by `parley train` (not queued), as before.
 */
export async function cancelTraining(models: Models, trainingJobId: string): Promise<boolean> {
  if (!/^[0-9a-f]{24}$/.test(trainingJobId)) return false;
  const outcome = await cancelJob(models, { trainingJobId: asObjectId(trainingJobId) });
  if (outcome === 'cancelled') {
    await markTrainingCancelled(models, trainingJobId);
    return true;
  }
  const flagged = await cancelTrainingJob(models, trainingJobId);
  return outcome === 'requested' || flagged;
}

/** A training job that ends before any worker ran it. */
export async function markTrainingCancelled(models: Models, trainingJobId: string | ObjectId): Promise<void> {
  await models.TrainingJob.updateOne(
    { _id: asObjectId(trainingJobId), status: 'queued' },
    { $set: { status: 'cancelled', finishedAt: new Date() } },
  );
}
