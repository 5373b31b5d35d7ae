/**
 * One conversation, live: its messages (bot replies streaming as they come), take over and hand
 * back, a reply box while an agent answers, and a rating on every bot reply. Keys: j/k move
 * between bot replies, +/- (u/d) rate, c corrects, t takes over.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ConsoleMessage, ConversationDetail } from '../../../server/realtime/agent/protocol.js';
import type { HandoffReason } from '../../../server/realtime/widget/protocol.js';
import { ApiError, errorMessage } from '../api.js';
import { DraftItem, MessageItem } from '../components/message.js';
import { RatingControls } from '../components/rating.js';
import { useConsole } from '../context.js';
import { useFocusOnChange, useOnReconnect, useRater, useShortcuts } from '../hooks.js';
import { MODE_LABELS } from '../inbox-state.js';
import { Link } from '../router.js';
import { CONSOLE_BASE } from '../routes.js';
import {
  emptyThread,
  moveSelection,
  newClientMessageId,
  type Thread,
  withHistory,
  withMessage,
  withoutDrafts,
  withToken,
} from '../thread-state.js';

export const HANDOFF_LABELS: Record<HandoffReason, string> = {
  requested: 'The visitor asked for a person',
  low_confidence: 'The bot was not sure of its reply',
  agent: 'An agent took over',
  bot_unavailable: 'No model could answer',
};

type Summary = Omit<ConversationDetail, 'messages'>;

export function ConversationPane({ conversationId }: { conversationId: string }) {
  const { api, live } = useConsole();
  const [summary, setSummary] = useState<Summary | null>(null);
  const [thread, setThread] = useState<Thread>(emptyThread());
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [switching, setSwitching] = useState(false);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [correctingId, setCorrectingId] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const composerRef = useRef<HTMLTextAreaElement>(null);
  const logRef = useRef<HTMLDivElement>(null);
  const itemRefs = useRef(new Map<string, HTMLLIElement>());
  const loading = useRef<{ id: string; buffered: ConsoleMessage[] } | null>(null);

  const applyDetail = (detail: ConversationDetail, buffered: readonly ConsoleMessage[] = []) => {
    const { messages, ...rest } = detail;
    setSummary(rest);
    setThread((current) => buffered.reduce(withMessage, withHistory(current, messages)));
  };

  const load = (id: string) => {
    const attempt = { id, buffered: [] as ConsoleMessage[] };
    loading.current = attempt;
    api
      .conversation(id)
      .then((detail) => {
        if (loading.current !== attempt) return;
        loading.current = null;
        setLoadError(null);
        applyDetail(detail, attempt.buffered);
      })
      .catch((error: unknown) => {
        if (loading.current !== attempt) return;
        loading.current = null;
        setLoadError(
          error instanceof ApiError && error.status === 404
            ? 'This conversation does not exist (any more).'
            : errorMessage(error),
        );
      });
  };

  useEffect(() => {
    setSummary(null);
    setThread(emptyThread());
    setLoadError(null);
    setActionError(null);
    setSelectedId(null);
    setCorrectingId(null);
    itemRefs.current.clear();
    load(conversationId);
    live.watch(conversationId).catch((error: unknown) => setActionError(errorMessage(error)));
    const off = [
      live.on('message', (event) => {
        if (event.conversationId !== conversationId) return;
        if (loading.current) loading.current.buffered.push(event.message);
        setThread((current) => withMessage(current, event.message));
      }),
      live.on('reply:token', (event) => {
        if (event.conversationId !== conversationId) return;
        setThread((current) => withToken(current, event.replyId, event.delta));
      }),
      live.on('conversation:updated', (update) => {
        if (update.id !== conversationId) return;
        setSummary((current) => (current ? { ...current, ...update } : current));
        if (update.mode === 'human' || update.mode === 'closed') setThread(withoutDrafts);
      }),
    ];
    return () => {
      for (const unsubscribe of off) unsubscribe();
      loading.current = null;
      void live.watch(null).catch(() => undefined);
    };
  }, [conversationId, live]);

  useOnReconnect(() => load(conversationId));
  useFocusOnChange(headingRef, conversationId);

  // Keep the newest message in view when the reader is at the bottom already.
  const atBottom = useRef(true);
  useLayoutEffect(() => {
    const log = logRef.current;
    if (log && atBottom.current) log.scrollTop = log.scrollHeight;
  }, [thread]);

  const rater = useRater((_conversationId, message) => setThread((current) => withMessage(current, message)));

  const botReplies = thread.messages.filter((m) => m.role === 'bot');
  const mode = summary?.mode ?? null;
  const canTakeOver = mode === 'bot' || mode === 'waiting';

  const select = (id: string | null) => {
    setSelectedId(id);
    if (id) {
      const item = itemRefs.current.get(id);
      item?.focus();
      item?.scrollIntoView({ block: 'nearest' });
    }
  };

  const selectedOrNewest = (): ConsoleMessage | null => {
    const chosen = botReplies.find((m) => m.id === selectedId) ?? botReplies.at(-1) ?? null;
    if (chosen && chosen.id !== selectedId) select(chosen.id);
    return chosen;
  };

  const takeOver = async () => {
    setActionError(null);
    setSwitching(true);
    try {
      applyDetail(await api.takeOver(conversationId));
      requestAnimationFrame(() => composerRef.current?.focus());
    } catch (error) {
      setActionError(errorMessage(error));
    } finally {
      setSwitching(false);
    }
  };

  const handBack = async () => {
    setActionError(null);
    setSwitching(true);
    try {
      applyDetail(await api.handBack(conversationId));
    } catch (error) {
      setActionError(errorMessage(error));
    } finally {
      setSwitching(false);
    }
  };

  useShortcuts((action) => {
    if (!summary) return;
    switch (action) {
      case 'next':
      case 'previous':
        select(
          moveSelection(
            botReplies.map((m) => m.id),
            selectedId,
            action === 'next' ? 1 : -1,
          ),
        );
        return;
      case 'rate-up':
      case 'rate-down': {
        const message = selectedOrNewest();
        if (message) {
          void rater.rate(
            conversationId,
            message,
            action === 'rate-up' ? { value: 'up' } : { value: 'down' },
          );
        }
        return;
      }
      case 'correct': {
        const message = selectedOrNewest();
        if (message) setCorrectingId(message.id);
        return;
      }
      case 'take-over':
        if (canTakeOver && !switching) void takeOver();
        return;
    }
  });

  const closeCorrection = (id: string) => {
    setCorrectingId(null);
    itemRefs.current.get(id)?.focus();
  };

  const title = summary ? `Conversation on ${summary.site ?? summary.channel}` : 'Conversation';

  return (
    <section class="conversation" aria-labelledby="conversation-title" data-mode={mode ?? 'loading'}>
      <header class="conv-head">
        <div class="conv-title">
          <Link class="back-link" href={`${CONSOLE_BASE}/inbox`}>
            <span aria-hidden="true">←</span> All conversations
          </Link>
          <h2 id="conversation-title" tabIndex={-1} ref={headingRef}>
            {title}
          </h2>
          <p class="conv-meta">
            {summary ? (
              <>
                <span class={`badge mode-${summary.mode}`}>{MODE_LABELS[summary.mode]}</span>
                {summary.handoffReason && summary.mode !== 'bot' ? (
                  <span class="reason">{HANDOFF_LABELS[summary.handoffReason]}</span>
                ) : null}
                <span>
                  {summary.messageCount} {summary.messageCount === 1 ? 'message' : 'messages'}
                </span>
              </>
            ) : (
              <span>{loadError ? 'Could not load' : 'Loading…'}</span>
            )}
          </p>
        </div>
        <div class="conv-actions">
          {canTakeOver && (
            <button
              type="button"
              class="primary"
              aria-keyshortcuts="t"
              disabled={switching}
              onClick={() => void takeOver()}
            >
              Take over{' '}
              <span class="key" aria-hidden="true">
                t
              </span>
            </button>
          )}
          {mode === 'human' && (
            <button type="button" disabled={switching} onClick={() => void handBack()}>
              Hand back to the bot
            </button>
          )}
        </div>
      </header>
      <div class="status-line" role="status">
        {actionError ? <span class="error">{actionError}</span> : null}
      </div>
      {loadError ? (
        <div class="state state-error" role="alert">
          <p>{loadError}</p>
          <button type="button" onClick={() => load(conversationId)}>
            Try again
          </button>
        </div>
      ) : (
        <div
          class="log"
          key={conversationId}
          ref={logRef}
          role="log"
          aria-label="Messages"
          aria-busy={!summary}
          onScroll={(event) => {
            const log = event.currentTarget;
            atBottom.current = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
          }}
        >
          <ol class="messages">
            {summary && thread.messages.length === 0 && thread.drafts.length === 0 ? (
              <li class="state">No messages yet.</li>
            ) : null}
            {thread.messages.map((message) => (
              <MessageItem
                key={message.id}
                message={message}
                selected={message.id === selectedId}
                onSelect={message.role === 'bot' ? () => setSelectedId(message.id) : undefined}
                itemRef={(element: HTMLLIElement | null) => {
                  if (element) itemRefs.current.set(message.id, element);
                  else itemRefs.current.delete(message.id);
                }}
              >
                {message.role === 'bot' ? (
                  <RatingControls
                    message={message}
                    busy={rater.busy.has(message.id)}
                    error={rater.errors.get(message.id) ?? null}
                    correcting={correctingId === message.id}
                    onCorrectingChange={(open) =>
                      open ? setCorrectingId(message.id) : closeCorrection(message.id)
                    }
                    rate={(request) => rater.rate(conversationId, message, request)}
                  />
                ) : null}
              </MessageItem>
            ))}
            {thread.drafts.map((draft) => (
              <DraftItem key={draft.replyId} text={draft.text} />
            ))}
          </ol>
        </div>
      )}
      {summary && !loadError ? (
        mode === 'human' ? (
          <Composer
            conversationId={conversationId}
            textareaRef={composerRef}
            onSent={(m) => setThread((t) => withMessage(t, m))}
          />
        ) : (
          <p class="composer-note">
            {mode === 'closed'
              ? 'This conversation is closed.'
              : mode === 'waiting'
                ? 'The visitor is waiting for a person. Take over to reply.'
                : 'The bot is answering. Take over to reply yourself.'}
          </p>
        )
      ) : null}
    </section>
  );
}

function Composer({
  conversationId,
  textareaRef,
  onSent,
}: {
  conversationId: string;
  textareaRef: { current: HTMLTextAreaElement | null };
  onSent: (message: ConsoleMessage) => void;
}) {
  const { api } = useConsole();
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The same text retried keeps its id, so a reply that did reach the server is not stored twice.
  const pending = useRef<{ text: string; clientMessageId: string } | null>(null);

  const send = async (event?: Event) => {
    event?.preventDefault();
    const body = text.trim();
    if (!body || sending) return;
    if (pending.current?.text !== body)
      pending.current = { text: body, clientMessageId: newClientMessageId() };
    setSending(true);
    setError(null);
    try {
      const message = await api.sendMessage(conversationId, body, pending.current.clientMessageId);
      pending.current = null;
      setText('');
      onSent(message);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setSending(false);
      textareaRef.current?.focus();
    }
  };

  return (
    <form class="composer" onSubmit={(event) => void send(event)}>
      <label for="reply-text">Reply to the visitor</label>
      <div class="composer-row">
        <textarea
          id="reply-text"
          ref={textareaRef}
          rows={3}
          value={text}
          aria-describedby="reply-help reply-error"
          aria-invalid={error ? true : undefined}
          onInput={(event) => setText(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
              event.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" class="primary" disabled={sending || !text.trim()}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </div>
      <p id="reply-help" class="hint">
        Enter sends, Shift+Enter starts a new line.
      </p>
      <p id="reply-error" class="error" role="alert">
        {error}
      </p>
    </form>
  );
}
