/**
 * Ranking cases from a dataset's validation split: for a conversation, a point where an agent
 * replied, the turns before it as context, and that reply among 9 agent replies from other
 * validation conversations. Seeded, so the same dataset gives the same cases.
 */
import type { ObjectId } from 'mongodb';
import { splitOf } from '../datasets/split.js';
import type { Models } from '../db/models/index.js';
import { notFound } from '../errors.js';
import { seededRandom, shuffle } from '../seeded-random.js';
import type { RankingCase } from './cases.js';

interface Turn {
  role: 'customer' | 'agent';
  text: string;
}

export async function rankingCasesFromDataset(
  models: Pick<Models, 'Dataset' | 'Conversation'>,
  datasetId: string,
  options: { count?: number; candidates?: number; seed?: number } = {},
): Promise<RankingCase[]> {
  const dataset = await models.Dataset.findById(datasetId).lean();
  if (!dataset) throw notFound(`No dataset ${datasetId}.`, 'dataset_not_found');
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

  const conversations: Turn[][] = [];
  for await (const conversation of models.Conversation.find(query, { messages: 1 })
    .sort({ _id: 1 })
    .lean()
    .cursor()) {
    if (splitOf(conversation._id.toHexString(), percent) !== 'validation') continue;
    conversations.push(
      conversation.messages.map((m) => ({
        role: m.role === 'customer' ? 'customer' : 'agent',
        text: m.text,
      })),
    );
  }
  const random = seededRandom(options.seed ?? 1);
  const wanted = options.candidates ?? 10;
  const replies = conversations.flatMap((turns, c) =>
    turns.filter((t) => t.role === 'agent').map((t) => ({ c, text: t.text })),
  );
  const cases: RankingCase[] = [];
  const order = shuffle(
    conversations.map((_, i) => i),
    random,
  );
  for (const c of order) {
    if (cases.length >= (options.count ?? 200)) break;
    const turns = conversations[c]!;
    const points = turns.flatMap((turn, i) => (i > 0 && turn.role === 'agent' ? [i] : []));
    if (points.length === 0) continue;
    const point = points[Math.floor(random() * points.length)]!;
    const answer = turns[point]!.text;
    const pool = replies.filter((r) => r.c !== c && r.text !== answer);
    const distractors = new Set<string>();
    for (let tries = 0; distractors.size < wanted - 1 && tries < pool.length * 4; tries += 1) {
      distractors.add(pool[Math.floor(random() * pool.length)]!.text);
    }
    if (distractors.size < wanted - 1) continue;
    const candidates = [...distractors];
    const position = Math.floor(random() * wanted);
    candidates.splice(position, 0, answer);
    cases.push({ id: `${c}:${point}`, context: turns.slice(0, point), candidates, answer: position });
  }
  return cases;
}
