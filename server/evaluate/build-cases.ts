/**
 * Ranking cases from a dataset's validation split: for a conversation, a point where an agent
 * replied, the turns before it as context, and that reply among 9 agent replies from other
 * validation conversations. Seeded, so the same dataset gives the same cases.
 */

import type { Models } from '../db/models/index.js';
import { seededRandom, shuffle } from '../seeded-random.js';
import type { RankingCase } from './cases.js';
import { type ValidationConversation, validationConversations } from './validation-split.js';

export async function rankingCasesFromDataset(
  models: Pick<Models, 'Dataset' | 'Conversation'>,
  datasetId: string,
  options: { count?: number; candidates?: number; seed?: number } = {},
): Promise<RankingCase[]> {
  return rankingCasesFromConversations(await validationConversations(models, datasetId), options);
}

/** The cases of rankingCasesFromDataset, from its validation conversations already read. */
export function rankingCasesFromConversations(
  validation: ValidationConversation[],
  options: { count?: number; candidates?: number; seed?: number } = {},
): RankingCase[] {
  const conversations = validation.map((c) => c.turns);
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
