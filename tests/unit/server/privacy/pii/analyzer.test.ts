import { describe, expect, it } from 'vitest';
import { resolveOverlaps } from '../../../../../server/privacy/pii/analyzer.js';
import { createAnonymizer, type DetectedEntity } from '../../../../../server/privacy/pii/index.js';

const entity = (
  type: DetectedEntity['type'],
  start: number,
  end: number,
  score: number,
  recognizer = 'r',
): DetectedEntity => ({
  type,
  start,
  end,
  score,
  recognizer,
});

describe('analyzer', () => {
  it('returns sorted, non-overlapping spans as UTF-16 offsets into the text', () => {
    const text = '😀 Hi, I am José Núñez 😀, mail jose@example.com or call +44 20 7946 0958';
    const entities = createAnonymizer({ hashKey: 'k' }).detect(text);
    expect(entities.map((e) => [e.type, text.slice(e.start, e.end)])).toEqual([
      ['PERSON', 'José Núñez'],
      ['EMAIL_ADDRESS', 'jose@example.com'],
      ['PHONE_NUMBER', '+44 20 7946 0958'],
    ]);
    for (let i = 1; i < entities.length; i += 1)
      expect(entities[i]!.start).toBeGreaterThanOrEqual(entities[i - 1]!.end);
  });

  it('keeps the higher score, then the longer span, when spans overlap', () => {
    const order = new Map([
      ['a', 0],
      ['b', 1],
    ]);
    expect(
      resolveOverlaps([entity('PIN', 0, 4, 0.6, 'a'), entity('ACCOUNT_NUMBER', 0, 9, 0.9, 'b')], order),
    ).toEqual([entity('ACCOUNT_NUMBER', 0, 9, 0.9, 'b')]);
    expect(
      resolveOverlaps([entity('PIN', 0, 4, 0.8, 'a'), entity('ACCOUNT_NUMBER', 2, 9, 0.8, 'b')], order),
    ).toEqual([entity('ACCOUNT_NUMBER', 2, 9, 0.8, 'b')]);
    expect(resolveOverlaps([entity('PIN', 5, 9, 0.7), entity('PERSON', 0, 4, 0.6)], order)).toEqual([
      entity('PERSON', 0, 4, 0.6),
      entity('PIN', 5, 9, 0.7),
    ]);
  });

  it('prefers an account cue over a phone-shaped reading of the same digits', () => {
    const text = 'my account number is 4155550132';
    expect(
      createAnonymizer({ hashKey: 'k' })
        .detect(text)
        .map((e) => e.type),
    ).toEqual(['ACCOUNT_NUMBER']);
  });

  it('finds nothing in an empty text', () => {
    expect(createAnonymizer({ hashKey: 'k' }).detect('')).toEqual([]);
  });
});
