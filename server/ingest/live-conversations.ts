/**
 * Ingesting a widget site's own chats: Parley is the source. A finished live conversation (closed,
 * or quiet for the hold-open time) is anonymized in place, closed, and from then on counts as
 * training data of the site's widget source ("widget:<site>"); the raw text is not kept. Ratings
 * and corrections stay on the same messages. A visitor who writes again later starts a new
 * conversation.
 */
import { ObjectId } from 'mongodb';
import type { Models } from '../db/models/index.js';
import { mergeReports, type PiiReport } from '../privacy/pii/index.js';
import { acquireSourceLease, recordFailedRun, releaseSourceLease, renewSourceLease } from './lease.js';
import { ProgressTracker } from './progress.js';
import type { IngestDeps, IngestOptions, IngestSummary } from './run.js';
import { DEFAULT_HOLD_OPEN_MS } from './run.js';
import { sourceIdFor } from './sources.js';

export const WIDGET_SOURCE_KIND = 'widget';
/** The shape recorded as a widget source's mapping: there is nothing to map. */
export const LIVE_SHAPE = 'live-widget';

export const widgetSourceName = (siteName: string) => `widget:${siteName}`;

/** The site's widget source, created with the site; returns its id. */
export async function ensureWidgetSource(
  models: Pick<Models, 'Source'>,
  siteName: string,
): Promise<ObjectId> {
  const name = widgetSourceName(siteName);
  const _id = sourceIdFor(name);
  await models.Source.updateOne(
    { _id },
    { $setOnInsert: { name, kind: WIDGET_SOURCE_KIND, uri: 'self', mapping: { shape: LIVE_SHAPE } } },
    { upsert: true },
  );
  return _id;
}

interface LiveConversationDoc {
  _id: ObjectId;
  lastMessageAt: Date;
  messages: {
    role: 'customer' | 'agent' | 'bot';
    text: string;
    rating?: { correction?: string | null } | null;
  }[];
}

export async function ingestLiveConversations(
  deps: Pick<IngestDeps, 'models' | 'anonymizer'>,
  sourceId: ObjectId,
  sourceName: string,
  options: Pick<IngestOptions, 'batchSize' | 'holdOpenMs' | 'onProgress' | 'signal'> & { now?: Date } = {},
): Promise<IngestSummary> {
  const { models } = deps;
  const started = performance.now();
  const batchSize = options.batchSize ?? 200;
  const runId = new ObjectId();
  await acquireSourceLease(models, sourceId, runId);
  const cutoff = new Date(
    (options.now ?? new Date()).getTime() - (options.holdOpenMs ?? DEFAULT_HOLD_OPEN_MS),
  );
  const finished = {
    sourceId,
    anonymizedAt: null,
    $or: [{ status: 'closed' as const }, { lastMessageAt: { $lt: cutoff } }],
  };
  const reports: PiiReport[] = [];
  let read = 0;
  let conversations = 0;
  let messages = 0;
  const counts = () => ({ read, conversations, messages, quarantined: 0 });
  try {
    await models.IngestionRun.create({
      _id: runId,
      sourceId,
      full: false,
      status: 'running',
      startedAt: new Date(),
    });
    const tracker = new ProgressTracker(await models.Conversation.countDocuments(finished));
    options.onProgress?.(tracker.snapshot());
    const cursor = models.Conversation.find(finished, { messages: 1, lastMessageAt: 1 })
      .sort({ _id: 1 })
      .lean()
      .cursor();
    let batch: LiveConversationDoc[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      // Corrections agents wrote on bot replies are text too: each follows its message as a turn.
      const jobs = batch.map((c) => ({
        key: c._id.toHexString(),
        state: null,
        turns: c.messages.flatMap((m) => [
          { role: m.role, text: m.text },
          ...(m.rating?.correction ? [{ role: 'agent' as const, text: m.rating.correction }] : []),
        ]),
      }));
      const results = await deps.anonymizer.anonymize(jobs, runId.toHexString());
      const now = new Date();
      let written = 0;
      for (const [index, conversation] of batch.entries()) {
        const result = results[index]!;
        const texts = result.texts[Symbol.iterator]();
        const anonymized = conversation.messages.map((m) => {
          const text = texts.next().value!;
          if (!m.rating?.correction) return { ...m, text };
          return { ...m, text, rating: { ...m.rating, correction: texts.next().value! } };
        });
        // Only if no message arrived since it was read; otherwise the next run takes it.
        const update = await models.Conversation.updateOne(
          { _id: conversation._id, lastMessageAt: conversation.lastMessageAt, anonymizedAt: null },
          { $set: { messages: anonymized, status: 'closed', anonymizedAt: now, 'pii.state': result.state } },
        );
        if (update.modifiedCount !== 1) continue;
        conversations += 1;
        messages += anonymized.length;
        written += anonymized.length;
        reports.push(result.report);
      }
      read += batch.length;
      await renewSourceLease(models, sourceId, runId, {});
      options.onProgress?.(tracker.add({ read: batch.length, written, quarantined: 0 }));
      batch = [];
    };
    for await (const conversation of cursor) {
      batch.push(conversation as unknown as LiveConversationDoc);
      if (batch.length >= batchSize) await flush();
      if (options.signal?.aborted) break;
    }
    await flush();

    const status = options.signal?.aborted ? 'cancelled' : 'succeeded';
    const pii = mergeReports(...reports);
    await models.IngestionRun.updateOne(
      { _id: runId },
      { $set: { status, finishedAt: new Date(), counts: counts(), pii } },
    );
    return {
      runId: runId.toHexString(),
      source: sourceName,
      status,
      ...counts(),
      watermark: null,
      durationMs: Math.round(performance.now() - started),
      pii,
    };
  } catch (error) {
    await recordFailedRun(models, runId, counts(), error);
    throw error;
  } finally {
    await releaseSourceLease(models, sourceId, runId).catch(() => undefined);
  }
}
