import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareSpans, isHit, scores } from '../../../../../server/privacy/pii/evaluate.js';
import { evaluateGold, readGold } from '../../../../../server/privacy/pii/gold.js';
import { createAnonymizer } from '../../../../../server/privacy/pii/index.js';

const GOLD = path.join(import.meta.dirname, '../../../../fixtures/pii/star-dev-gold.jsonl');

describe('span matching', () => {
  it.each([
    [{ type: 'PERSON', start: 0, end: 6 }, { type: 'PERSON', start: 0, end: 6 }, true],
    [{ type: 'PERSON', start: 0, end: 10 }, { type: 'PERSON', start: 4, end: 10 }, true], // "Dr. Morgan" vs "Morgan"
    [{ type: 'PERSON', start: 0, end: 5 }, { type: 'PERSON', start: 0, end: 11 }, false], // "Brian" vs "Brian White"
    [{ type: 'PIN', start: 0, end: 6 }, { type: 'PERSON', start: 0, end: 6 }, false],
    [{ type: 'PERSON', start: 0, end: 4 }, { type: 'PERSON', start: 4, end: 8 }, false],
  ] as const)('%j against gold %j -> %s', (predicted, gold, hit) => {
    expect(isHit(predicted, gold)).toBe(hit);
  });

  it('counts each gold span once and scores precision, recall and F1', () => {
    const counts = compareSpans(
      [
        { type: 'PERSON', start: 0, end: 4 },
        { type: 'PERSON', start: 0, end: 4 },
        { type: 'PIN', start: 10, end: 14 },
      ],
      [
        { type: 'PERSON', start: 0, end: 4 },
        { type: 'ACCOUNT_NUMBER', start: 20, end: 29 },
      ],
    );
    expect(Object.fromEntries(counts)).toEqual({
      PERSON: { truePositives: 1, falsePositives: 1, falseNegatives: 0 },
      PIN: { truePositives: 0, falsePositives: 1, falseNegatives: 0 },
      ACCOUNT_NUMBER: { truePositives: 0, falsePositives: 0, falseNegatives: 1 },
    });
    expect(scores({ truePositives: 3, falsePositives: 1, falseNegatives: 3 })).toEqual({
      truePositives: 3,
      falsePositives: 1,
      falseNegatives: 3,
      precision: 0.75,
      recall: 0.5,
      f1: 0.6,
    });
  });
});

describe('hand-labelled STAR dev turns', () => {
  it('holds at least 600 turns from 60 conversations, with every span inside its text', async () => {
    const gold = await readGold(GOLD);
    expect(gold.length).toBeGreaterThanOrEqual(600);
    expect(new Set(gold.map((t) => t.conversationId)).size).toBe(60);
    for (const turn of gold)
      for (const e of turn.entities)
        expect(turn.text.slice(e.start, e.end).trim()).toBe(turn.text.slice(e.start, e.end));
  });

  // Floors just under the measured figures (bench/pii-eval.ts: 0.99 / 0.99 overall and for PERSON).
  it('keeps recall and precision above their floors, overall and for PERSON', async () => {
    const result = evaluateGold(createAnonymizer({ hashKey: 'gold' }), await readGold(GOLD));
    expect(result.overall.recall).toBeGreaterThanOrEqual(0.97);
    expect(result.overall.precision).toBeGreaterThanOrEqual(0.97);
    expect(result.byType.PERSON?.recall).toBeGreaterThanOrEqual(0.97);
    expect(result.byType.PERSON?.precision).toBeGreaterThanOrEqual(0.97);
    for (const type of ['ACCOUNT_NUMBER', 'PIN', 'DATE_OF_BIRTH'] as const) {
      expect(result.byType[type]?.recall).toBeGreaterThanOrEqual(0.95);
      expect(result.byType[type]?.precision).toBeGreaterThanOrEqual(0.9);
    }
  });
});
