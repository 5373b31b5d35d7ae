/**
 * The inbox: conversations, live (waiting for a person first, then with an agent, bot, closed),
 * filtered by mode and searched; the selected one opens beside the list.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConversationSummary } from '../../../server/realtime/agent/protocol.js';
import type { ConversationMode } from '../../../server/realtime/widget/protocol.js';
import { errorMessage } from '../api.js';
import { useConsole } from '../context.js';
import { useFocusOnChange, useOnReconnect } from '../hooks.js';
import {
  applyConversationUpdate,
  type ListFilter,
  MODE_FILTER_LABELS,
  MODE_LABELS,
  MODES,
  mergeLoaded,
  relativeTime,
} from '../inbox-state.js';
import { Link } from '../router.js';
import { conversationPath } from '../routes.js';
import { ConversationPane } from './conversation.js';

const SEARCH_DELAY_MS = 300;
const LIST_LIMIT = 100;

export function InboxPage({ conversationId }: { conversationId: string | null }) {
  const { api, live } = useConsole();
  const [filter, setFilter] = useState<ListFilter>({ mode: null, q: '' });
  const [query, setQuery] = useState('');
  const [list, setList] = useState<ConversationSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [, setTick] = useState(0);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const loading = useRef<{ filter: ListFilter; updates: ConversationSummary[] } | null>(null);
  const filterRef = useRef(filter);
  filterRef.current = filter;

  const load = () => {
    const attempt = { filter, updates: [] as ConversationSummary[] };
    loading.current = attempt;
    api
      .conversations({ mode: filter.mode, q: filter.q, limit: LIST_LIMIT })
      .then((loaded) => {
        if (loading.current !== attempt) return;
        loading.current = null;
        setError(null);
        setList(mergeLoaded(loaded, attempt.updates, attempt.filter));
      })
      .catch((failure: unknown) => {
        if (loading.current !== attempt) return;
        loading.current = null;
        setError(errorMessage(failure));
      });
  };

  useEffect(load, [filter.mode, filter.q]);
  useOnReconnect(load);
  useEffect(
    () =>
      live.on('conversation:updated', (summary) => {
        if (loading.current) loading.current.updates.push(summary);
        setList((current) =>
          current ? applyConversationUpdate(current, summary, filterRef.current) : current,
        );
      }),
    [live],
  );
  // Relative times ("3 min ago") stay true.
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 30_000);
    return () => clearInterval(timer);
  }, []);
  // Typing searches after a pause.
  useEffect(() => {
    if (query === filter.q) return;
    const timer = setTimeout(() => setFilter((current) => ({ ...current, q: query })), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [query]);

  useFocusOnChange(headingRef, conversationId === null ? 'list' : 'conversation');

  const setMode = (mode: ConversationMode | null) => setFilter((current) => ({ ...current, mode }));

  return (
    <div class={`inbox${conversationId ? ' has-conversation' : ''}`}>
      <section class="inbox-list" aria-labelledby="inbox-title">
        <div class="list-head">
          <h1 id="inbox-title" tabIndex={-1} ref={conversationId === null ? headingRef : undefined}>
            Inbox
          </h1>
          <search>
            <form
              class="search"
              onSubmit={(event) => {
                event.preventDefault();
                setFilter((current) => ({ ...current, q: query }));
              }}
            >
              <label for="inbox-search" class="visually-hidden">
                Search conversations
              </label>
              <input
                id="inbox-search"
                type="search"
                placeholder="Search conversations"
                value={query}
                onInput={(event) => setQuery(event.currentTarget.value)}
              />
            </form>
          </search>
          <fieldset class="filters">
            <legend class="visually-hidden">Show</legend>
            <button type="button" aria-pressed={filter.mode === null} onClick={() => setMode(null)}>
              All
            </button>
            {MODES.map((mode) => (
              <button
                key={mode}
                type="button"
                aria-pressed={filter.mode === mode}
                onClick={() => setMode(mode)}
              >
                {MODE_FILTER_LABELS[mode]}
              </button>
            ))}
          </fieldset>
        </div>
        <ListBody list={list} error={error} filter={filter} selectedId={conversationId} onRetry={load} />
      </section>
      <div class="inbox-detail">
        {conversationId ? (
          <ConversationPane conversationId={conversationId} />
        ) : (
          <div class="state state-empty">
            <p>Choose a conversation to read it, take it over or rate the bot's replies.</p>
            <p class="hint">
              Press <kbd>?</kbd> for keyboard shortcuts.
            </p>
          </div>
        )}
      </div>
    </div>
  );
}

function ListBody({
  list,
  error,
  filter,
  selectedId,
  onRetry,
}: {
  list: ConversationSummary[] | null;
  error: string | null;
  filter: ListFilter;
  selectedId: string | null;
  onRetry: () => void;
}) {
  if (error && !list) {
    return (
      <div class="state state-error" role="alert">
        <p>{error}</p>
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  if (!list) {
    return (
      <p class="state" role="status">
        Loading conversations…
      </p>
    );
  }
  const scope = filter.mode ? MODE_LABELS[filter.mode].toLowerCase() : null;
  return (
    <>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <p class="visually-hidden" role="status">
        {list.length} {list.length === 1 ? 'conversation' : 'conversations'}
      </p>
      {list.length === 0 ? (
        <p class="state state-empty">
          {filter.q
            ? `No conversations match “${filter.q}”.`
            : scope
              ? `No conversations in “${scope}”.`
              : 'No conversations yet. They appear here as visitors chat.'}
        </p>
      ) : (
        <ul class="conversation-list" aria-label="Conversations">
          {list.map((row) => (
            <li key={row.id} data-mode={row.mode} data-id={row.id}>
              <Link
                href={conversationPath(row.id)}
                class={`row${row.id === selectedId ? ' current' : ''}`}
                aria-current={row.id === selectedId ? 'page' : undefined}
              >
                <span class="row-top">
                  <span class={`badge mode-${row.mode}`}>{MODE_LABELS[row.mode]}</span>
                  <span class="site">{row.site ?? row.channel}</span>
                  <time dateTime={row.lastMessageAt} title={new Date(row.lastMessageAt).toLocaleString()}>
                    {relativeTime(row.lastMessageAt)}
                  </time>
                </span>
                <span class="preview">{row.preview || 'No messages yet'}</span>
                <span class="row-bottom">
                  <span>
                    {row.messageCount} {row.messageCount === 1 ? 'message' : 'messages'}
                  </span>
                  {row.unratedBotReplies > 0 ? (
                    <span class="unrated">{row.unratedBotReplies} to rate</span>
                  ) : null}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
