import type { Connection } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bindModels, ensureIndexes, type Models } from '../../server/db/models/index.js';
import {
  cancelJob,
  enqueueJob,
  finishJob,
  heartbeatJob,
  leaseJob,
  releaseJob,
} from '../../server/jobs/queue.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the worker job queue', () => {
  let mongo: TestMongo;
  let connection: Connection;
  let models: Models;

  beforeAll(async () => {
    mongo = await startTestMongo();
    connection = await mongo.connect();
    models = bindModels(connection);
    await ensureIndexes(models);
  });
  afterAll(async () => {
    await mongo.stop();
  });
  beforeEach(async () => {
    await models.WorkerJob.deleteMany({});
  });

  const queue = (params: Record<string, unknown> = {}, maxAttempts = 3) =>
    enqueueJob(models, { kind: 'evaluate', params, maxAttempts });

  it('gives one job to one worker when several lease at once, and the oldest job first', async () => {
    const first = await queue({ n: 1 });
    await sleep(5);
    const second = await queue({ n: 2 });
    const leases = await Promise.all(
      ['a', 'b', 'c', 'd'].map((owner) => leaseJob(models, { owner, leaseMs: 60_000 })),
    );
    const taken = leases.filter((l) => l !== null);
    expect(taken.map((l) => l!._id.toHexString()).sort()).toEqual(
      [first.toHexString(), second.toHexString()].sort(),
    );
    expect(leases.filter((l) => l === null)).toHaveLength(2);
    const oldest = await models.WorkerJob.findById(first).lean();
    expect(oldest).toMatchObject({ status: 'leased', attempts: 1 });
    expect(await leaseJob(models, { owner: 'e', leaseMs: 60_000 })).toBeNull();
  });

  it('leases only the kinds a worker asks for', async () => {
    await queue();
    expect(await leaseJob(models, { owner: 'a', leaseMs: 60_000, kinds: ['train'] })).toBeNull();
    expect(await leaseJob(models, { owner: 'a', leaseMs: 60_000, kinds: ['evaluate'] })).not.toBeNull();
  });

  it('a heartbeat keeps the lease; an expired lease is taken over, and the old holder can no longer write', async () => {
    const id = await queue();
    await leaseJob(models, { owner: 'a', leaseMs: 300 });
    await sleep(150);
    expect(await heartbeatJob(models, id, 'a', 300, { step: 1 })).toEqual({
      held: true,
      cancelRequested: false,
    });
    await sleep(200); // 350 ms after the lease, 200 ms after the heartbeat: still held
    expect(await leaseJob(models, { owner: 'b', leaseMs: 300 })).toBeNull();
    await sleep(150);
    const taken = await leaseJob(models, { owner: 'b', leaseMs: 60_000 });
    expect(taken).toMatchObject({ attempts: 2 });
    expect(await heartbeatJob(models, id, 'a', 300)).toEqual({ held: false, cancelRequested: false });
    expect(await finishJob(models, id, 'a', 'succeeded', { result: { by: 'a' } })).toBe(false);
    expect(await releaseJob(models, id, 'a', { countAttempt: false })).toBe(false);
    expect(await finishJob(models, id, 'b', 'succeeded', { result: { by: 'b' } })).toBe(true);
    expect(await models.WorkerJob.findById(id).lean()).toMatchObject({
      status: 'succeeded',
      result: { by: 'b' },
      progress: { step: 1 },
      lease: { owner: null, expiresAt: null },
    });
  });

  it('fails a job with the reason once its attempts are used up by abandoned leases', async () => {
    const id = await queue({}, 2);
    const givenUp: string[] = [];
    const onGiveUp = (job: { _id: { toHexString(): string } }, error: string) => {
      givenUp.push(`${job._id.toHexString()}: ${error}`);
    };
    expect(await leaseJob(models, { owner: 'a', leaseMs: 1, onGiveUp })).toMatchObject({ attempts: 1 });
    await sleep(5);
    expect(await leaseJob(models, { owner: 'b', leaseMs: 1, onGiveUp })).toMatchObject({ attempts: 2 });
    await sleep(5);
    expect(await leaseJob(models, { owner: 'c', leaseMs: 1, onGiveUp })).toBeNull();
    const job = await models.WorkerJob.findById(id).lean();
    expect(job).toMatchObject({ status: 'failed', attempts: 3 });
    expect(job!.error).toMatch(
      /^Gave up after 2 attempts: each time, the worker running it stopped renewing its lease/,
    );
    expect(givenUp).toEqual([`${id.toHexString()}: ${job!.error}`]);
  });

  it('a release on shutdown puts the job back without using an attempt; a counted one uses it', async () => {
    const id = await queue({}, 1);
    await leaseJob(models, { owner: 'a', leaseMs: 60_000 });
    expect(await releaseJob(models, id, 'a', { countAttempt: false })).toBe(true);
    expect(await models.WorkerJob.findById(id).lean()).toMatchObject({ status: 'queued', attempts: 0 });
    await leaseJob(models, { owner: 'b', leaseMs: 60_000 });
    expect(await releaseJob(models, id, 'b', { countAttempt: true, error: 'out of memory' })).toBe(true);
    expect(await models.WorkerJob.findById(id).lean()).toMatchObject({
      status: 'queued',
      attempts: 1,
      error: 'out of memory',
    });
    expect(await leaseJob(models, { owner: 'c', leaseMs: 60_000 })).toBeNull(); // 1 of 1 used
    expect((await models.WorkerJob.findById(id).lean())?.status).toBe('failed');
  });

  it('cancels a queued job at once, flags a leased one for its worker, and leaves an ended one alone', async () => {
    const queued = await queue();
    expect(await cancelJob(models, { _id: queued })).toBe('cancelled');
    expect(await models.WorkerJob.findById(queued).lean()).toMatchObject({ status: 'cancelled' });
    expect(await leaseJob(models, { owner: 'a', leaseMs: 60_000 })).toBeNull();

    const leased = await queue();
    await leaseJob(models, { owner: 'a', leaseMs: 60_000 });
    expect(await cancelJob(models, { _id: leased })).toBe('requested');
    expect(await heartbeatJob(models, leased, 'a', 60_000)).toEqual({ held: true, cancelRequested: true });
    expect(await finishJob(models, leased, 'a', 'cancelled', {})).toBe(true);
    expect(await cancelJob(models, { _id: leased })).toBeNull();
  });
});
