/** Runs an anonymizer over a hand-labelled gold set, conversation by conversation, and scores it. */
import { readFile } from 'node:fs/promises';
import { addCounts, type Counts, compareSpans, type Scores, type Span, scores } from './evaluate.js';
import type { Anonymizer, EntityType } from './types.js';

export interface GoldTurn {
  conversationId: string;
  turn: number;
  role?: 'customer' | 'agent';
  text: string;
  entities: Span[];
}

export interface GoldResult {
  turns: number;
  overall: Scores;
  byType: Partial<Record<EntityType, Scores>>;
  /** Predicted or missed spans that did not match, for reading. */
  errors: { conversationId: string; turn: number; kind: 'FP' | 'FN'; type: EntityType; value: string }[];
  milliseconds: number;
}

export async function readGold(file: string): Promise<GoldTurn[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as GoldTurn);
}

export function evaluateGold(anonymizer: Anonymizer, gold: readonly GoldTurn[]): GoldResult {
  const total: Counts = { truePositives: 0, falsePositives: 0, falseNegatives: 0 };
  const perType = new Map<EntityType, Counts>();
  const errors: GoldResult['errors'] = [];
  let conversation = anonymizer.conversation();
  let current: string | undefined;
  const started = performance.now();
  for (const turn of gold) {
    if (turn.conversationId !== current) {
      conversation = anonymizer.conversation();
      current = turn.conversationId;
    }
    const predicted = conversation.anonymizeText(turn.text, { role: turn.role }).entities;
    for (const [type, counts] of compareSpans(predicted, turn.entities)) {
      addCounts(total, counts);
      const into = perType.get(type) ?? { truePositives: 0, falsePositives: 0, falseNegatives: 0 };
      addCounts(into, counts);
      perType.set(type, into);
    }
    for (const p of predicted)
      if (
        !turn.entities.some(
          (g) =>
            g.type === p.type &&
            g.start < p.end &&
            p.start < g.end &&
            compareSpans([p], [g]).get(p.type)?.truePositives,
        )
      )
        errors.push({
          conversationId: turn.conversationId,
          turn: turn.turn,
          kind: 'FP',
          type: p.type,
          value: turn.text.slice(p.start, p.end),
        });
    for (const g of turn.entities)
      if (!predicted.some((p) => compareSpans([p], [g]).get(g.type)?.truePositives))
        errors.push({
          conversationId: turn.conversationId,
          turn: turn.turn,
          kind: 'FN',
          type: g.type,
          value: turn.text.slice(g.start, g.end),
        });
  }
  const milliseconds = performance.now() - started;
  const byType: GoldResult['byType'] = {};
  for (const [type, counts] of [...perType].sort(([a], [b]) => a.localeCompare(b)))
    byType[type] = scores(counts);
  return { turns: gold.length, overall: scores(total), byType, errors, milliseconds };
}
