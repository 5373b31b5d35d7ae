import { describe, expect, it } from 'vitest';
import {
  applyConversationUpdate,
  type ListFilter,
  mergeLoaded,
  relativeTime,
  sortConversations,
  updateWaiting,
} from '../../../../client/console/inbox-state.js';
import { at, summary } from './factories.js';

const all: ListFilter = { mode: null, q: '' };
const ids = (list: { id: string }[]) => list.map((row) => row.id);

describe('inbox order', () => {
  it('puts waiting first, then human, bot, closed; newest first within each', () => {
    const closed = summary({ mode: 'closed', lastMessageAt: at(59) });
    const oldBot = summary({ mode: 'bot', lastMessageAt: at(1) });
    const newBot = summary({ mode: 'bot', lastMessageAt: at(30) });
    const human = summary({ mode: 'human', lastMessageAt: at(2) });
    const waiting = summary({ mode: 'waiting', lastMessageAt: at(0) });
    expect(ids(sortConversations([closed, oldBot, newBot, human, waiting]))).toEqual(
      ids([waiting, human, newBot, oldBot, closed]),
    );
  });
});

describe('live updates to the list', () => {
  it('moves a conversation that starts waiting for a person to the top', () => {
    const a = summary({ mode: 'bot', lastMessageAt: at(5) });
    const b = summary({ mode: 'bot', lastMessageAt: at(4) });
    const list = sortConversations([a, b]);
    const next = applyConversationUpdate(list, { ...b, mode: 'waiting', lastMessageAt: at(6) }, all);
    expect(ids(next)).toEqual([b.id, a.id]);
    expect(next[0]!.mode).toBe('waiting');
    expect(list[1]!.mode).toBe('bot'); // the old list is untouched
  });

  it('adds a new conversation where its mode and time put it', () => {
    const a = summary({ mode: 'human', lastMessageAt: at(5) });
    const b = summary({ mode: 'bot', lastMessageAt: at(1) });
    const fresh = summary({ mode: 'bot', lastMessageAt: at(9) });
    expect(ids(applyConversationUpdate([a, b], fresh, all))).toEqual([a.id, fresh.id, b.id]);
  });

  it('keeps one row per conversation when the same update arrives twice', () => {
    const a = summary();
    const once = applyConversationUpdate([], a, all);
    expect(ids(applyConversationUpdate(once, a, all))).toEqual([a.id]);
  });

  it.each([
    ['drops a row that leaves the filtered mode', 'waiting', 'human', true, 0],
    ['keeps a row still in the filtered mode', 'waiting', 'waiting', true, 1],
    ['does not add a conversation of another mode', 'waiting', 'bot', false, 0],
    ['adds a new conversation of the filtered mode', 'waiting', 'waiting', false, 1],
  ] as const)('%s', (_name, filterMode, updatedMode, listed, expectedRows) => {
    const row = summary({ mode: 'waiting' });
    const list = listed ? [row] : [];
    const next = applyConversationUpdate(list, { ...row, mode: updatedMode }, { mode: filterMode, q: '' });
    expect(next).toHaveLength(expectedRows);
  });

  it('with a search, updates rows already found but adds none (the server decides what matches)', () => {
    const found = summary({ preview: 'refund please' });
    const other = summary({ preview: 'refund too' });
    const search: ListFilter = { mode: null, q: 'refund' };
    const updated = applyConversationUpdate(
      [found],
      { ...found, preview: 'refund done', lastMessageAt: at(9) },
      search,
    );
    expect(updated.map((row) => row.preview)).toEqual(['refund done']);
    expect(ids(applyConversationUpdate(updated, other, search))).toEqual([found.id]);
  });

  it('applies updates that arrived during a load on top of it, unless the load is newer', () => {
    const a = summary({ mode: 'bot', lastMessageAt: at(10) });
    const b = summary({ mode: 'bot', lastMessageAt: at(5) });
    const staleA = { ...a, mode: 'waiting' as const, lastMessageAt: at(8) };
    const newerB = { ...b, mode: 'waiting' as const, lastMessageAt: at(11) };
    const fresh = summary({ mode: 'waiting', lastMessageAt: at(12) });
    const merged = mergeLoaded([a, b], [staleA, newerB, fresh], all);
    expect(ids(merged)).toEqual([fresh.id, b.id, a.id]);
    expect(merged.find((row) => row.id === a.id)!.mode).toBe('bot');
  });
});

describe('the waiting count', () => {
  it('counts each waiting conversation once and forgets it when an agent takes over', () => {
    const a = summary({ mode: 'waiting' });
    let waiting = updateWaiting(new Set(), a);
    waiting = updateWaiting(waiting, a);
    expect(waiting.size).toBe(1);
    waiting = updateWaiting(waiting, { ...a, mode: 'human' });
    expect(waiting.size).toBe(0);
    expect(updateWaiting(new Set(), summary({ mode: 'bot' })).size).toBe(0);
  });
});

describe('relative times', () => {
  const now = Date.parse(at(30));
  it.each([
    [at(30), 'just now'],
    [at(28), '2 min ago'],
    ['2026-05-01T08:30:00.000Z', '2 h ago'],
    ['2026-04-30T10:30:00.000Z', 'yesterday'],
    ['2026-04-26T10:30:00.000Z', '5 days ago'],
    ['2026-05-01T10:31:00.000Z', 'just now'],
    ['not a date', ''],
  ])('%s is "%s"', (iso, expected) => {
    expect(relativeTime(iso, now)).toBe(expected);
  });
});
