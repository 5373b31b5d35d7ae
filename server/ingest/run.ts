/**
 * One ingestion run of one source: read after the watermark in bounded batches, normalize,
 * anonymize and write each batch, then move the watermark. The watermark only advances past
 * committed batches, so a run killed midway resumes where it stopped and re-reads at most one
 * batch, which deterministic ids make harmless.
 */
import { ObjectId } from 'mongodb';
import type { Connection } from 'mongoose';
import type { Models } from '../db/models/index.js';
import { type Logger, silentLogger } from '../logger.js';
import { mergeReports, type PiiReport } from '../privacy/pii/index.js';
import type { BatchAnonymizer, ConversationResult } from './batch-anonymizer.js';
import { connectorFor } from './connectors/index.js';
import { acquireSourceLease, recordFailedRun, releaseSourceLease, renewSourceLease } from './lease.js';
import { ingestLiveConversations, WIDGET_SOURCE_KIND } from './live-conversations.js';
import { createNormalizer, type NormalizedMessage, type QuarantineEntry } from './normalize.js';
import { OpenConversations, type ReadMessage } from './open-conversations.js';
import { type IngestProgress, ProgressTracker } from './progress.js';
import { getSourceSpec, sourceIdFor } from './sources.js';
import { type Watermark, watermarkOf } from './watermark.js';
import { BatchWriter, type PreparedBatch } from './writer.js';

export interface IngestDeps {
  models: Models;
  connection: Connection;
  /** Anonymizes batches (on a worker thread in the CLI); the caller owns and closes it. */
  anonymizer: BatchAnonymizer;
  /** Keys the hash of customer ids (the same per-deployment key the anonymizer uses). */
  hashKey: Buffer | string;
  logger?: Logger;
}

export interface IngestOptions {
  /** Re-read everything instead of continuing after the watermark. */
  full?: boolean;
  batchSize?: number;
  /**
   * A conversation whose newest message is younger than this (in source time, against the
   * batch's newest message) waits for the next batch, so it is written once and not appended to.
   */
  holdOpenMs?: number;
  onProgress?: (progress: IngestProgress) => void;
  /** Stops after the batch in flight; the run is recorded as cancelled. */
  signal?: AbortSignal;
}

/** The run's summary; `parley ingest --json` prints these fields, an interface other tools read. */
export interface IngestSummary {
  runId: string;
  source: string;
  status: 'succeeded' | 'cancelled';
  read: number;
  conversations: number;
  messages: number;
  quarantined: number;
  watermark: Watermark | null;
  durationMs: number;
  pii: PiiReport;
}

/** Support conversations rarely pause longer than this between messages. */
export const DEFAULT_HOLD_OPEN_MS = 30 * 60_000;

export async function runIngestion(
  deps: IngestDeps,
  sourceName: string,
  options: IngestOptions = {},
): Promise<IngestSummary> {
  const { models } = deps;
  const logger = deps.logger ?? silentLogger;
  const batchSize = options.batchSize ?? 1000;
  const started = performance.now();
  const kind = (await models.Source.findById(sourceIdFor(sourceName), { kind: 1 }).lean())?.kind;
  if (kind === WIDGET_SOURCE_KIND)
    return ingestLiveConversations(deps, sourceIdFor(sourceName), sourceName, options);
  const source = await getSourceSpec(models, sourceName);
  const runId = new ObjectId();
  await acquireSourceLease(models, source._id, runId);

  const reader = connectorFor(source.kind)(source, { ownConnection: deps.connection });
  const previous = source.watermark.ts !== null ? source.watermark : null;
  const after = options.full || !reader.incremental ? null : previous;
  const normalize = createNormalizer(source.mapping);
  const timestampPath = source.mapping.fields.timestamp;
  const conversations = new Set<string>();
  const reports: PiiReport[] = [];
  const counts = () => ({ read, conversations: conversations.size, messages, quarantined });
  let watermark: Watermark | null = previous;
  let read = 0;
  let messages = 0;
  let quarantined = 0;
  let cancelled = false;
  let committing: Promise<void> = Promise.resolve();

  try {
    await models.IngestionRun.create({
      _id: runId,
      sourceId: source._id,
      full: after === null,
      status: 'running',
      startedAt: new Date(),
      watermarkBefore: previous,
    });
    const sourceWasEmpty = !(await models.Conversation.exists({ sourceId: source._id }));
    const writer = new BatchWriter(
      { models, sourceId: source._id, runId, hashKey: deps.hashKey },
      sourceWasEmpty,
    );
    const tracker = new ProgressTracker(await reader.count(after));
    options.onProgress?.(tracker.snapshot());

    interface InFlight {
      prepared: PreparedBatch;
      anonymized: Promise<ConversationResult[]>;
      size: number;
      watermark: Watermark | null;
    }
    // Batch N+1 is read and prepared here while batch N is anonymized (on the worker) and batch
    // N-1 is written; each watermark moves only past its written batch. Writes stay strictly in
    // batch order: one commit at a time, the next starting once the previous one is done.
    const commit = async (batch: InFlight) => {
      const result = await writer.commit(batch.prepared, await batch.anonymized);
      for (const id of result.conversationIds) conversations.add(id.toHexString());
      messages += result.messages;
      quarantined += result.quarantined;
      reports.push(result.pii);
      // Committed: now, and only now, the source may move on.
      await renewSourceLease(
        models,
        source._id,
        runId,
        batch.watermark ? { watermark: batch.watermark } : {},
      );
      const progress = tracker.add({
        read: batch.size,
        written: result.messages,
        quarantined: result.quarantined,
      });
      read = progress.read;
      watermark = batch.watermark ?? watermark;
      await models.IngestionRun.updateOne({ _id: runId }, { $set: { counts: counts() } });
      options.onProgress?.(progress);
    };

    const open = new OpenConversations({
      idleMs: options.holdOpenMs ?? DEFAULT_HOLD_OPEN_MS,
      maxHeld: batchSize,
    });
    const start = (ready: NormalizedMessage[], rejected: QuarantineEntry[], size: number) =>
      writer.prepare(ready, rejected).then((prepared): InFlight => {
        const anonymized = deps.anonymizer.anonymize(prepared.jobs, runId.toHexString());
        anonymized.catch(() => undefined); // awaited in commit(); never an unhandled rejection meanwhile
        // The source may move only to just before the earliest message still held back.
        return {
          prepared,
          anonymized,
          size,
          watermark: reader.incremental ? open.safeWatermark(readMark) : null,
        };
      });

    let inFlight: InFlight | null = null;
    let readMark: Watermark | null = after;
    let seq = 0;
    for await (const batch of reader.batches({ after, batchSize })) {
      // A batch that arrives after the stop was asked is left, unread, to the next run.
      if (options.signal?.aborted) break;
      const incoming: ReadMessage[] = [];
      const rejected: QuarantineEntry[] = [...batch.rejected];
      for (const document of batch.documents) {
        const result = normalize(document);
        for (const message of result.messages) incoming.push({ message, seq, before: readMark });
        rejected.push(...result.quarantined);
        seq += 1;
        if (reader.incremental) readMark = watermarkOf(document, timestampPath) ?? readMark;
      }
      const next = await start(
        open.admit(incoming),
        rejected,
        batch.documents.length + batch.rejected.length,
      );
      if (inFlight) {
        await committing;
        // Asked to stop while the previous batch was written: write the one read before that
        // (below), not this one.
        if (options.signal?.aborted) break;
        committing = commit(inFlight);
        committing.catch(() => undefined); // awaited before the next commit, or below
      }
      inFlight = next;
    }
    await committing;
    if (inFlight) await commit(inFlight);
    cancelled = options.signal?.aborted === true;
    // A cancelled run leaves what it held back to the next run: the watermark is still before it.
    const rest = cancelled ? [] : open.drain();
    if (rest.length > 0) await commit(await start(rest, [], 0));

    const pii = mergeReports(...reports);
    const status = cancelled ? 'cancelled' : 'succeeded';
    await models.IngestionRun.updateOne(
      { _id: runId },
      { $set: { status, finishedAt: new Date(), counts: counts(), pii, watermarkAfter: watermark } },
    );
    const summary: IngestSummary = {
      runId: runId.toHexString(),
      source: source.name,
      status,
      ...counts(),
      watermark,
      durationMs: Math.round(performance.now() - started),
      pii,
    };
    logger.info({ ...summary, pii: undefined }, 'ingestion finished');
    return summary;
  } catch (error) {
    await committing.catch(() => undefined);
    await recordFailedRun(models, runId, counts(), error);
    throw error;
  } finally {
    await reader.close();
    await releaseSourceLease(models, source._id, runId).catch(() => undefined);
  }
}
