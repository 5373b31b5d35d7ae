/**
 * Writes one batch of normalized messages into Parley's conversations: anonymized first, new
 * conversations inserted, later messages of known conversations appended in timestamp order,
 * messages already stored skipped (their ids are deterministic), quarantine entries recorded.
 */
import { createHmac } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type AnyBulkWriteOperation, type Collection, ObjectId } from 'mongodb';
import { deterministicHex, deterministicId } from '../db/ids.js';
import { insertNew } from '../db/insert-new.js';
import type { Models } from '../db/models/index.js';
import type { PiiReport, PseudonymState } from '../privacy/pii/index.js';
import { mergeReports } from '../privacy/pii/index.js';
import type { ConversationJob, ConversationResult } from './batch-anonymizer.js';
import type { NormalizedMessage, QuarantineEntry } from './normalize.js';

export interface BatchResult {
  /** Conversations that received messages in this batch. */
  conversationIds: ObjectId[];
  messages: number;
  quarantined: number;
  pii: PiiReport;
}

export interface WriterContext {
  models: Pick<Models, 'Conversation' | 'QuarantinedDocument'>;
  sourceId: ObjectId;
  runId: ObjectId;
  /** Keys the customer-id hash, so the stored id cannot be matched back without it. */
  hashKey: Buffer | string;
}

export const conversationIdFor = (sourceId: ObjectId, conversationKey: string) =>
  deterministicId('conversation', sourceId.toHexString(), conversationKey);

/** Message ids as hex strings: a batch is checked against the stored ids before any is built. */
export const messageHexFor = (sourceHex: string, conversationKey: string, messageKey: string) =>
  deterministicHex('message', sourceHex, conversationKey, messageKey);

const quarantineIdFor = (sourceId: ObjectId, entry: QuarantineEntry) =>
  deterministicId('quarantine', sourceId.toHexString(), String(entry.sourceDocumentId), entry.path ?? '');

function customerKey(hashKey: Buffer | string, customerId: string | null): string | null {
  if (!customerId) return null;
  return `cust_${createHmac('sha256', hashKey).update(customerId).digest('hex').slice(0, 16)}`;
}

/** The raw documents this writer stores (server/db/models/conversation.ts describes the same fields). */
interface MessageDocument {
  _id: ObjectId;
  role: string;
  text: string;
  ts: Date;
  sourceMessageId: string | null;
  clientMessageId: string | null;
  modelVersion: string | null;
  authorId: ObjectId | null;
  rating: null;
}

interface ConversationDocument {
  _id: ObjectId;
  sourceId: ObjectId;
  sourceConversationId: string;
  siteId: ObjectId | null;
  channel: string;
  customerId: string | null;
  status: string;
  startedAt: Date;
  lastMessageAt: Date;
  messages: MessageDocument[];
  anonymizedAt: Date;
  deletedAt: Date | null;
  meta: unknown;
  pii: { state: PseudonymState | null };
  createdAt: Date;
  updatedAt: Date;
}

interface StoredConversation {
  _id: ObjectId;
  messageIds: ObjectId[];
  pii?: { state?: PseudonymState | null };
}

function groupByConversation(messages: NormalizedMessage[]): Map<string, NormalizedMessage[]> {
  const groups = new Map<string, NormalizedMessage[]>();
  for (const message of messages) {
    const group = groups.get(message.conversationKey);
    if (group) group.push(message);
    else groups.set(message.conversationKey, [message]);
  }
  for (const group of groups.values()) group.sort((a, b) => a.ts.getTime() - b.ts.getTime());
  return groups;
}

/** A batch ready for anonymization: which messages are new, and whose conversations exist. */
export interface PreparedBatch {
  jobs: ConversationJob[];
  /** `ids[i]` is the message id of `fresh[i]`. */
  entries: { key: string; fresh: NormalizedMessage[]; ids: ObjectId[]; existing: boolean }[];
  quarantined: QuarantineEntry[];
}

const CACHE_LIMIT = 50_000;

/**
 * Writes the batches of one run in two steps: prepare() decides what is new (and claims those
 * message ids at once, so a batch prepared while the previous one is still being anonymized or
 * written never repeats a message), commit() writes the anonymized result. It remembers the
 * conversations of this run (a bounded cache), so only unseen conversations are looked up, and
 * none at all when the source had no conversations as the run began. Lookups and updates match
 * the string key first: the embedded server compares strings far faster than ObjectIds.
 */
export class BatchWriter {
  /** Conversation key -> ids of its stored (or claimed) messages. */
  private readonly known = new LRUCache<string, Set<string>>({ max: CACHE_LIMIT });
  private readonly conversations: Collection<ConversationDocument>;

  constructor(
    private readonly context: WriterContext,
    /** True when the source had no stored conversations as the run began. */
    private readonly sourceWasEmpty: boolean,
  ) {
    this.conversations = context.models.Conversation
      .collection as unknown as Collection<ConversationDocument>;
  }

  /** Stored states of the conversations looked up, by key. */
  private async lookUp(keys: string[]): Promise<Map<string, PseudonymState | null>> {
    const states = new Map<string, PseudonymState | null>();
    const unknown = keys.filter((key) => !this.known.has(key));
    if (unknown.length === 0 || this.sourceWasEmpty) return states;
    // An aggregation, not a find projection: the embedded server projects "messages._id" wrongly.
    const found = await this.conversations
      .aggregate<StoredConversation & { sourceConversationId: string }>([
        { $match: { sourceConversationId: { $in: unknown }, sourceId: this.context.sourceId } },
        { $project: { sourceConversationId: 1, messageIds: '$messages._id', pii: 1 } },
      ])
      .toArray();
    for (const conversation of found) {
      this.known.set(
        conversation.sourceConversationId,
        new Set(conversation.messageIds.map((id) => id.toHexString())),
      );
      states.set(conversation.sourceConversationId, conversation.pii?.state ?? null);
    }
    return states;
  }

  async prepare(messages: NormalizedMessage[], quarantined: QuarantineEntry[]): Promise<PreparedBatch> {
    const sourceHex = this.context.sourceId.toHexString();
    const groups = groupByConversation(messages);
    const storedStates = await this.lookUp([...groups.keys()]);
    const prepared: PreparedBatch = { jobs: [], entries: [], quarantined };
    for (const [key, group] of groups) {
      const existing = this.known.get(key);
      const seen = existing ?? new Set<string>();
      const fresh: NormalizedMessage[] = [];
      const ids: ObjectId[] = [];
      for (const message of group) {
        const hex = messageHexFor(sourceHex, key, message.messageKey);
        if (seen.has(hex)) continue;
        const id = ObjectId.createFromHexString(hex);
        // The id's own hex string, not `hex`: that is a slice that would keep its whole digest alive.
        seen.add(id.toHexString());
        fresh.push(message);
        ids.push(id);
      }
      if (fresh.length === 0) continue;
      this.known.set(key, seen);
      prepared.entries.push({ key, fresh, ids, existing: existing !== undefined });
      prepared.jobs.push({
        key,
        state: storedStates.get(key),
        turns: fresh.map((m) => ({ text: m.text, role: m.role })),
        meta: existing ? null : (fresh.find((m) => m.meta)?.meta ?? {}),
      });
    }
    return prepared;
  }

  async commit(prepared: PreparedBatch, results: ConversationResult[]): Promise<BatchResult> {
    const { sourceId } = this.context;
    const now = new Date();
    const inserts: ConversationDocument[] = [];
    const updates: AnyBulkWriteOperation<ConversationDocument>[] = [];
    const touched: ObjectId[] = [];
    let written = 0;

    prepared.entries.forEach(({ key, fresh, ids, existing }, index) => {
      const result = results[index];
      if (result?.key !== key) throw new Error(`Anonymized results are out of order at ${index} (${key}).`);
      const _id = conversationIdFor(sourceId, key);
      const newMessages = fresh.map(
        (message, turn): MessageDocument => ({
          _id: ids[turn]!,
          role: message.role,
          text: result.texts[turn]!,
          ts: message.ts,
          sourceMessageId: message.messageKey,
          clientMessageId: null,
          modelVersion: null,
          authorId: null,
          rating: null,
        }),
      );
      const first = fresh[0]!;
      const last = fresh[fresh.length - 1]!;
      if (existing) {
        updates.push({
          updateOne: {
            filter: { sourceConversationId: key, _id },
            update: {
              $push: { messages: { $each: newMessages, $sort: { ts: 1 } } },
              $min: { startedAt: first.ts },
              $max: { lastMessageAt: last.ts },
              $set: { 'pii.state': result.state, anonymizedAt: now, updatedAt: now },
            },
          },
        });
      } else {
        inserts.push({
          _id,
          sourceId,
          sourceConversationId: key,
          siteId: null,
          channel: first.channel ?? 'chat',
          customerId: customerKey(this.context.hashKey, fresh.find((m) => m.customerId)?.customerId ?? null),
          status: 'closed',
          startedAt: first.ts,
          lastMessageAt: last.ts,
          messages: newMessages,
          anonymizedAt: now,
          deletedAt: null,
          meta: result.meta ?? {},
          pii: { state: result.state },
          createdAt: now,
          updatedAt: now,
        });
      }
      touched.push(_id);
      written += newMessages.length;
    });

    // Conversations first, quarantine next; the caller moves the watermark only after both.
    if (inserts.length > 0) await insertNew(this.conversations, inserts);
    if (updates.length > 0) await this.conversations.bulkWrite(updates, { ordered: false });
    if (prepared.quarantined.length > 0) {
      await insertNew(
        this.context.models.QuarantinedDocument.collection,
        prepared.quarantined.map((entry) => ({
          _id: quarantineIdFor(sourceId, entry),
          sourceId,
          runId: this.context.runId,
          sourceDocumentId: entry.sourceDocumentId,
          path: entry.path,
          reason: entry.reason,
          at: now,
        })),
      );
    }
    return {
      conversationIds: touched,
      messages: written,
      quarantined: prepared.quarantined.length,
      pii: mergeReports(...results.map((r) => r.report)),
    };
  }
}
