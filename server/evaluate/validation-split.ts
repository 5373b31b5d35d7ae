/**
 * A dataset's validation conversations, read back from the database with the dataset's own
 * filters and split rule, as alternating customer/agent turns. Ranking cases and generation
 * samples are drawn from them, so both see exactly the conversations training never saw.
 */
import type { ObjectId } from 'mongodb';
import { splitOf } from '../datasets/split.js';
import type { StoredMessage } from '../datasets/turns.js';
import type { Models } from '../db/models/index.js';
import { notFound } from '../errors.js';

export interface DialogueTurn {
  role: 'customer' | 'agent';
  text: string;
}

export interface ValidationConversation {
  id: string;
  /** Messages as turns; bot replies count as agent turns. */
  turns: DialogueTurn[];
  /** The stored messages with their ratings, for rendering training examples. */
  messages: StoredMessage[];
}

export async function findDataset(models: Pick<Models, 'Dataset'>, datasetId: string) {
  const dataset = /^[0-9a-f]{24}$/i.test(datasetId) ? await models.Dataset.findById(datasetId).lean() : null;
  if (!dataset) throw notFound(`No dataset ${datasetId}.`, 'dataset_not_found');
  return dataset;
}

/** The dataset's validation conversations, in `_id` order, one turn per message. */
export async function validationConversations(
  models: Pick<Models, 'Dataset' | 'Conversation'>,
  datasetId: string,
): Promise<ValidationConversation[]> {
  const dataset = await findDataset(models, datasetId);
  const percent = dataset.render?.validationPercent ?? 10;
  const query: Record<string, unknown> = {
    sourceId: { $in: dataset.sourceIds as ObjectId[] },
    anonymizedAt: { $ne: null },
    deletedAt: null,
  };
  const started: Record<string, Date> = {};
  if (dataset.filters?.since) started.$gte = dataset.filters.since;
  if (dataset.filters?.until) started.$lt = dataset.filters.until;
  if (Object.keys(started).length > 0) query.startedAt = started;
  if (dataset.filters?.channel) query.channel = dataset.filters.channel;

  const conversations: ValidationConversation[] = [];
  for await (const conversation of models.Conversation.find(query, { messages: 1 })
    .sort({ _id: 1 })
    .lean()
    .cursor()) {
    const id = conversation._id.toHexString();
    if (splitOf(id, percent) !== 'validation') continue;
    conversations.push({
      id,
      turns: conversation.messages.map((m) => ({
        role: m.role === 'customer' ? 'customer' : 'agent',
        text: m.text,
      })),
      messages: conversation.messages.map((m) => ({
        role: m.role as StoredMessage['role'],
        text: m.text,
        rating: (m.rating as StoredMessage['rating']) ?? null,
      })),
    });
  }
  return conversations;
}

/** Consecutive turns of one role joined into one, as training renders them. */
export function mergeTurns(turns: DialogueTurn[]): DialogueTurn[] {
  const merged: DialogueTurn[] = [];
  for (const turn of turns) {
    const last = merged[merged.length - 1];
    if (last && last.role === turn.role) last.text = `${last.text}\n${turn.text}`;
    else merged.push({ ...turn });
  }
  return merged;
}
