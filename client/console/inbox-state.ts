/**
 * The inbox list as the console shows it: the server's order (waiting for a person first, then
 * human, bot, closed; newest first within each) kept while live `conversation:updated` events
 * arrive. Pure functions over immutable arrays.
 */
import type { ConversationSummary } from '../../server/realtime/agent/protocol.js';
import type { ConversationMode } from '../../server/realtime/widget/protocol.js';

export const MODES: readonly ConversationMode[] = ['waiting', 'human', 'bot', 'closed'];

const MODE_RANK: Record<ConversationMode, number> = { waiting: 0, human: 1, bot: 2, closed: 3 };

export const MODE_LABELS: Record<ConversationMode, string> = {
  waiting: 'Waiting for a person',
  human: 'With an agent',
  bot: 'Bot',
  closed: 'Closed',
};

/** Shorter names for the filter buttons, so they fit one row. */
export const MODE_FILTER_LABELS: Record<ConversationMode, string> = {
  waiting: 'Waiting',
  human: 'With agent',
  bot: 'Bot',
  closed: 'Closed',
};

export interface ListFilter {
  mode: ConversationMode | null;
  /** The search text; with one, live events update rows already listed but add none. */
  q: string;
}

export function compareConversations(a: ConversationSummary, b: ConversationSummary): number {
  const byMode = MODE_RANK[a.mode] - MODE_RANK[b.mode];
  if (byMode !== 0) return byMode;
  const byTime = Date.parse(b.lastMessageAt) - Date.parse(a.lastMessageAt);
  if (byTime !== 0) return byTime;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function sortConversations(list: readonly ConversationSummary[]): ConversationSummary[] {
  return [...list].sort(compareConversations);
}

/**
 * A live update applied to the list: the row with its id is replaced (or removed when it no
 * longer fits the mode filter); a new conversation is added when it fits and no search is active.
 */
export function applyConversationUpdate(
  list: readonly ConversationSummary[],
  summary: ConversationSummary,
  filter: ListFilter,
): ConversationSummary[] {
  const index = list.findIndex((row) => row.id === summary.id);
  const fitsMode = filter.mode === null || summary.mode === filter.mode;
  if (index === -1) {
    if (!fitsMode || filter.q.trim() !== '') return [...list];
    return sortConversations([...list, summary]);
  }
  if (!fitsMode) return list.filter((row) => row.id !== summary.id);
  return sortConversations(list.map((row, i) => (i === index ? summary : row)));
}

/**
 * The list just loaded, with the updates that arrived while it loaded applied on top: an update is
 * newer than what the response holds unless the response's row has a later last message.
 */
export function mergeLoaded(
  loaded: readonly ConversationSummary[],
  updatesDuringLoad: readonly ConversationSummary[],
  filter: ListFilter,
): ConversationSummary[] {
  let list = sortConversations(loaded);
  for (const update of updatesDuringLoad) {
    const current = list.find((row) => row.id === update.id);
    if (current && Date.parse(current.lastMessageAt) > Date.parse(update.lastMessageAt)) continue;
    list = applyConversationUpdate(list, update, filter);
  }
  return list;
}

/** The ids of conversations waiting for a person (the nav badge), after one update. */
export function updateWaiting(waiting: ReadonlySet<string>, summary: ConversationSummary): Set<string> {
  const next = new Set(waiting);
  if (summary.mode === 'waiting') next.add(summary.id);
  else next.delete(summary.id);
  return next;
}

/** "2 min ago" style times for the list; exact times go in a title/datetime attribute. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return '';
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return days === 1 ? 'yesterday' : `${days} days ago`;
}
