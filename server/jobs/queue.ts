/**
 * The job queue in MongoDB (`worker_jobs`) that training workers take work from. A worker leases
 * a job with one atomic findOneAndUpdate (a queued job, or a leased one whose lease expired: its
 * worker stopped heartbeating), renews the lease with heartbeats, and finishes it; every write a
 * worker makes names its lease, so a worker that lost its lease to another changes nothing.
 */
import type { ObjectId } from 'mongodb';
import { Types } from 'mongoose';
import type { Models } from '../db/models/index.js';
import type { WORKER_JOB_KINDS } from '../db/models/worker-job.js';

export type WorkerJobKind = (typeof WORKER_JOB_KINDS)[number];

export interface LeasedJob {
  _id: ObjectId;
  kind: WorkerJobKind;
  params: Record<string, unknown>;
  trainingJobId: ObjectId | null;
  attempts: number;
  maxAttempts: number;
  cancelRequested: boolean;
}

export interface LeaseOptions {
  owner: string;
  leaseMs: number;
  /** Kinds this worker runs; default all. */
  kinds?: readonly WorkerJobKind[];
  now?: Date;
  /** Called for a job failed because its attempts ran out. */
  onGiveUp?: (job: { _id: ObjectId; trainingJobId: ObjectId | null }, error: string) => Promise<void> | void;
}

export async function enqueueJob(
  models: Pick<Models, 'WorkerJob'>,
  job: {
    kind: WorkerJobKind;
    params: Record<string, unknown>;
    trainingJobId?: ObjectId | null;
    maxAttempts: number;
  },
): Promise<ObjectId> {
  const created = await models.WorkerJob.create({
    kind: job.kind,
    params: job.params,
    trainingJobId: job.trainingJobId ?? null,
    maxAttempts: job.maxAttempts,
    status: 'queued',
  });
  return created._id;
}

/**
 * Leases the oldest job this worker can run, or returns null when there is none. A job taken
 * over after its last allowed attempt was abandoned fails instead, with the reason, and the
 * worker looks for another.
 */
export async function leaseJob(
  models: Pick<Models, 'WorkerJob'>,
  options: LeaseOptions,
): Promise<LeasedJob | null> {
  for (;;) {
    const now = options.now ?? new Date();
    const job = await models.WorkerJob.findOneAndUpdate(
      {
        ...(options.kinds ? { kind: { $in: [...options.kinds] } } : {}),
        $or: [{ status: 'queued' }, { status: 'leased', 'lease.expiresAt': { $lt: now } }],
      },
      {
        $set: {
          status: 'leased',
          lease: { owner: options.owner, expiresAt: new Date(now.getTime() + options.leaseMs) },
          heartbeatAt: now,
        },
        $inc: { attempts: 1 },
      },
      { sort: { createdAt: 1 }, returnDocument: 'after' },
    ).lean();
    if (!job) return null;
    if (job.attempts > job.maxAttempts) {
      const error =
        `Gave up after ${job.maxAttempts} attempt${job.maxAttempts === 1 ? '' : 's'}: ` +
        'each time, the worker running it stopped renewing its lease (killed, crashed or cut off).';
      if (await finishJob(models, job._id, options.owner, 'failed', { error }))
        await options.onGiveUp?.({ _id: job._id, trainingJobId: job.trainingJobId ?? null }, error);
      continue;
    }
    if (!job.startedAt) await models.WorkerJob.updateOne({ _id: job._id }, { $set: { startedAt: now } });
    return {
      _id: job._id,
      kind: job.kind as WorkerJobKind,
      params: (job.params ?? {}) as Record<string, unknown>,
      trainingJobId: job.trainingJobId ?? null,
      attempts: job.attempts,
      maxAttempts: job.maxAttempts,
      cancelRequested: job.cancelRequested,
    };
  }
}

export interface Heartbeat {
  /** False when the lease is gone (expired and taken over, or the job was finished by another). */
  held: boolean;
  cancelRequested: boolean;
}

/** Renews the lease (and records progress); tells whether the worker still holds the job. */
export async function heartbeatJob(
  models: Pick<Models, 'WorkerJob'>,
  jobId: ObjectId,
  owner: string,
  leaseMs: number,
  progress?: Record<string, unknown>,
): Promise<Heartbeat> {
  const now = new Date();
  const job = await models.WorkerJob.findOneAndUpdate(
    { _id: jobId, status: 'leased', 'lease.owner': owner },
    {
      $set: {
        'lease.expiresAt': new Date(now.getTime() + leaseMs),
        heartbeatAt: now,
        ...(progress ? { progress } : {}),
      },
    },
    { returnDocument: 'after', projection: { cancelRequested: 1 } },
  ).lean();
  return { held: job !== null, cancelRequested: job?.cancelRequested ?? false };
}

/** Ends a job this worker holds; false when it no longer held it. */
export async function finishJob(
  models: Pick<Models, 'WorkerJob'>,
  jobId: ObjectId,
  owner: string,
  status: 'succeeded' | 'failed' | 'cancelled',
  outcome: { result?: unknown; error?: string | null },
): Promise<boolean> {
  const updated = await models.WorkerJob.updateOne(
    { _id: jobId, status: 'leased', 'lease.owner': owner },
    {
      $set: {
        status,
        result: outcome.result ?? null,
        error: outcome.error ?? null,
        finishedAt: new Date(),
        lease: { owner: null, expiresAt: null },
      },
    },
  );
  return updated.modifiedCount === 1;
}

/**
 * Puts a job this worker holds back in the queue for another worker (a worker shutting down, a
 * training process that died); a release on shutdown does not count as an attempt.
 */
export async function releaseJob(
  models: Pick<Models, 'WorkerJob'>,
  jobId: ObjectId,
  owner: string,
  options: { countAttempt: boolean; error?: string },
): Promise<boolean> {
  const updated = await models.WorkerJob.updateOne(
    { _id: jobId, status: 'leased', 'lease.owner': owner },
    {
      $set: { status: 'queued', lease: { owner: null, expiresAt: null }, error: options.error ?? null },
      ...(options.countAttempt ? {} : { $inc: { attempts: -1 } }),
    },
  );
  return updated.modifiedCount === 1;
}

/**
 * Cancels a job: a queued one ends at once ('cancelled'); a leased one is flagged, and its worker
 * stops it at its next heartbeat ('requested'). Null when it had already ended.
 */
export async function cancelJob(
  models: Pick<Models, 'WorkerJob'>,
  filter: { _id: ObjectId } | { trainingJobId: ObjectId },
): Promise<'cancelled' | 'requested' | null> {
  const queued = await models.WorkerJob.updateOne(
    { ...filter, status: 'queued' },
    { $set: { status: 'cancelled', cancelRequested: true, finishedAt: new Date() } },
  );
  if (queued.modifiedCount === 1) return 'cancelled';
  const leased = await models.WorkerJob.updateOne(
    { ...filter, status: 'leased' },
    { $set: { cancelRequested: true } },
  );
  return leased.modifiedCount === 1 ? 'requested' : null;
}

export const asObjectId = (id: string | ObjectId) => (typeof id === 'string' ? new Types.ObjectId(id) : id);
