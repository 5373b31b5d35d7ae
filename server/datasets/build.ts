/**
 * Builds an immutable dataset snapshot: anonymized conversations chosen by source, dates and
 * channel, rendered with the base model's chat template into windows of whole turns, split by
 * conversation, written as JSON lines under PARLEY_DATA_DIR/datasets/<id>/ (then made read-only).
 * The dataset document carries the lineage: filters, rendering, stats, PII counts, watermarks.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ObjectId } from 'mongodb';
import type { Models } from '../db/models/index.js';
import { notFound } from '../errors.js';
import { sourceIdFor } from '../ingest/sources.js';
import type { ChatTokenizer } from '../ml/tokenizer.js';
import { mergeReports, type PiiReport } from '../privacy/pii/index.js';
import { type Split, splitOf } from './split.js';
import { type StoredMessage, trainableTurnCount, trainingTurns } from './turns.js';
import { windowExamples } from './windows.js';

export interface DatasetFilters {
  sources: string[];
  since?: Date | null;
  until?: Date | null;
  channel?: string | null;
  /** Conversations with fewer trainable agent replies are left out. */
  minAgentTurns?: number;
}

export interface RenderOptions {
  tokenizer: ChatTokenizer;
  /** The base model directory or version the chat template and context length come from. */
  baseModel: string;
  contextLength: number;
  systemPrompt: string | null;
  validationPercent?: number;
}

export interface BuildProgress {
  conversations: number;
  examples: number;
}

export const datasetDir = (dataDir: string, id: ObjectId | string) =>
  path.join(dataDir, 'datasets', String(id));

async function write(stream: WriteStream, line: string): Promise<void> {
  if (!stream.write(line)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

export async function buildDataset(
  deps: { models: Models; dataDir: string },
  filters: DatasetFilters,
  render: RenderOptions,
  onProgress?: (progress: BuildProgress) => void,
) {
  const { models } = deps;
  const sources = await models.Source.find({ _id: { $in: filters.sources.map(sourceIdFor) } }).lean();
  const missing = filters.sources.filter((name) => !sources.some((s) => s.name === name));
  if (missing.length > 0)
    throw notFound(`No source named ${missing.map((m) => `"${m}"`).join(', ')}.`, 'source_not_found');

  const _id = new ObjectId();
  const dir = datasetDir(deps.dataDir, _id);
  const validationPercent = render.validationPercent ?? 10;
  const minAgentTurns = filters.minAgentTurns ?? 1;
  const sourceIds = sources.map((s) => s._id);
  await models.Dataset.create({
    _id,
    name: `${filters.sources.join('+')} ${new Date().toISOString().slice(0, 10)}`,
    status: 'building',
    sourceIds,
    filters: {
      since: filters.since ?? null,
      until: filters.until ?? null,
      channel: filters.channel ?? null,
      minAgentTurns,
    },
    render: {
      baseModel: render.baseModel,
      contextLength: render.contextLength,
      systemPrompt: render.systemPrompt,
      validationPercent,
    },
    artifactPath: dir,
  });

  const files: Record<Split, string> = {
    train: path.join(dir, 'train.jsonl'),
    validation: path.join(dir, 'validation.jsonl'),
  };
  const stats = {
    conversations: 0,
    examples: 0,
    tokens: 0,
    targetTokens: 0,
    trainConversations: 0,
    validationConversations: 0,
    trainExamples: 0,
    validationExamples: 0,
    truncatedExamples: 0,
  };
  try {
    await mkdir(dir, { recursive: true });
    const streams: Record<Split, WriteStream> = {
      train: createWriteStream(files.train, { mode: 0o600 }),
      validation: createWriteStream(files.validation, { mode: 0o600 }),
    };
    try {
      const query: Record<string, unknown> = {
        sourceId: { $in: sourceIds },
        anonymizedAt: { $ne: null },
        deletedAt: null,
      };
      const started: Record<string, Date> = {};
      if (filters.since) started.$gte = filters.since;
      if (filters.until) started.$lt = filters.until;
      if (Object.keys(started).length > 0) query.startedAt = started;
      if (filters.channel) query.channel = filters.channel;

      const cursor = models.Conversation.find(query, { messages: 1, customerId: 1 })
        .sort({ _id: 1 })
        .lean()
        .cursor();
      for await (const conversation of cursor) {
        const turns = trainingTurns(conversation.messages as StoredMessage[], render.systemPrompt);
        if (trainableTurnCount(turns) < minAgentTurns) continue;
        const examples = windowExamples(render.tokenizer, turns, render.contextLength);
        if (examples.length === 0) continue;
        const id = conversation._id.toHexString();
        // Customer-level DP clips all of a customer's examples together; without a customer id the
        // conversation is its own unit.
        const unit = (conversation as { customerId?: string | null }).customerId ?? id;
        const split = splitOf(id, validationPercent);
        stats.conversations += 1;
        stats[split === 'train' ? 'trainConversations' : 'validationConversations'] += 1;
        for (const [window, example] of examples.entries()) {
          stats.examples += 1;
          stats[split === 'train' ? 'trainExamples' : 'validationExamples'] += 1;
          stats.tokens += example.ids.length;
          stats.targetTokens += example.targets.reduce((n, t) => n + t.end - t.start, 0);
          if (example.truncated) stats.truncatedExamples += 1;
          await write(
            streams[split],
            `${JSON.stringify({ conversationId: id, unit, window, ids: example.ids, targets: example.targets.map((t) => [t.start, t.end]) })}\n`,
          );
        }
        if (stats.conversations % 200 === 0)
          onProgress?.({ conversations: stats.conversations, examples: stats.examples });
      }
    } finally {
      await Promise.all([close(streams.train), close(streams.validation)]);
    }
    // Immutable from here on.
    await Promise.all([chmod(files.train, 0o444), chmod(files.validation, 0o444)]);

    const runs = await models.IngestionRun.find(
      { sourceId: { $in: sourceIds }, status: 'succeeded' },
      { pii: 1 },
    ).lean();
    const piiReport = mergeReports(
      ...runs.map((r) => (r.pii ?? { entities: {}, operators: {} }) as PiiReport),
    );
    const sourceWatermarks = Object.fromEntries(sources.map((s) => [s.name, s.watermark ?? null]));
    await models.Dataset.updateOne(
      { _id },
      { $set: { status: 'ready', stats, piiReport, sourceWatermarks } },
    );
    onProgress?.({ conversations: stats.conversations, examples: stats.examples });
  } catch (error) {
    await models.Dataset.updateOne(
      { _id },
      { $set: { status: 'failed', stats, error: (error as Error).message } },
    );
    throw error;
  }
  return (await models.Dataset.findById(_id).lean())!;
}
