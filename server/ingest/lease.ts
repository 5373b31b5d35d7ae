/**
 * One ingestion at a time per source. A lease names its run and its process and expires unless
 * renewed; the lease of a process that is gone (same host, pid dead) is taken over at once, so a
 * run killed midway can be resumed right away.
 */
import { hostname } from 'node:os';
import type { ObjectId } from 'mongodb';
import type { Models } from '../db/models/index.js';
import { conflict } from '../errors.js';

export const LEASE_MS = 5 * 60 * 1000;

export const leaseOwner = () => `${hostname()}:${process.pid}`;

function ownerIsGone(owner: string | null | undefined): boolean {
  if (!owner) return false;
  const separator = owner.lastIndexOf(':');
  if (owner.slice(0, separator) !== hostname()) return false;
  const pid = Number(owner.slice(separator + 1));
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function acquireSourceLease(
  models: Pick<Models, 'Source' | 'IngestionRun'>,
  sourceId: ObjectId,
  runId: ObjectId,
) {
  const lease = { runId, owner: leaseOwner(), expiresAt: new Date(Date.now() + LEASE_MS) };
  const free = { $or: [{ 'lease.expiresAt': null }, { 'lease.expiresAt': { $lt: new Date() } }] };
  if (await models.Source.findOneAndUpdate({ _id: sourceId, ...free }, { $set: { lease } })) return;

  const current = (await models.Source.findById(sourceId, { lease: 1 }).lean())?.lease;
  if (current?.runId && ownerIsGone(current.owner)) {
    const taken = await models.Source.findOneAndUpdate(
      { _id: sourceId, 'lease.runId': current.runId },
      { $set: { lease } },
    );
    if (taken) {
      await models.IngestionRun.updateOne(
        { _id: current.runId, status: 'running' },
        {
          $set: {
            status: 'failed',
            finishedAt: new Date(),
            error: 'interrupted: its process ended before the run did',
          },
        },
      );
      return;
    }
  }
  throw conflict('This source is being ingested by another run; try again when it ends.', 'ingest_running');
}

/**
 * Renews the lease, and with it applies `also` (the watermark after a committed batch): only the
 * run holding the lease moves the source, in one write.
 */
export async function renewSourceLease(
  models: Pick<Models, 'Source'>,
  sourceId: ObjectId,
  runId: ObjectId,
  also: Record<string, unknown> = {},
) {
  await models.Source.updateOne(
    { _id: sourceId, 'lease.runId': runId },
    { $set: { ...also, 'lease.expiresAt': new Date(Date.now() + LEASE_MS) } },
  );
}

export async function releaseSourceLease(
  models: Pick<Models, 'Source'>,
  sourceId: ObjectId,
  runId: ObjectId,
) {
  await models.Source.updateOne(
    { _id: sourceId, 'lease.runId': runId },
    { $set: { lease: { runId: null, owner: null, expiresAt: null } } },
  );
}

/** Records a run that stopped on an error, with what it had done; never throws over the error. */
export async function recordFailedRun(
  models: Pick<Models, 'IngestionRun'>,
  runId: ObjectId,
  counts: { read: number; conversations: number; messages: number; quarantined: number },
  error: unknown,
): Promise<void> {
  await models.IngestionRun.updateOne(
    { _id: runId },
    { $set: { status: 'failed', finishedAt: new Date(), counts, error: (error as Error).message } },
  ).catch(() => undefined);
}
