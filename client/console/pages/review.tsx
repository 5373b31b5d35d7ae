/**
 * The review queue: recent unrated bot replies with what the visitor said before, newest or least
 * confident first. j/k move between replies; +/- (u/d) rate and move on; c writes a correction.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConsoleMessage, ReviewItem } from '../../../server/realtime/agent/protocol.js';
import { errorMessage, type ReviewOrder } from '../api.js';
import { MessageItem } from '../components/message.js';
import { RatingControls } from '../components/rating.js';
import { useConsole } from '../context.js';
import { useFocusOnChange, useRater, useShortcuts } from '../hooks.js';
import { Link } from '../router.js';
import { conversationPath } from '../routes.js';
import { moveSelection } from '../thread-state.js';

const ORDERS: { value: ReviewOrder; label: string }[] = [
  { value: 'newest', label: 'Newest first' },
  { value: 'confidence', label: 'Least confident first' },
];

export function ReviewPage() {
  const { api } = useConsole();
  const [order, setOrder] = useState<ReviewOrder>('newest');
  const [items, setItems] = useState<ReviewItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [correctingId, setCorrectingId] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const itemRefs = useRef(new Map<string, HTMLElement>());
  const request = useRef(0);

  const load = () => {
    const attempt = ++request.current;
    setError(null);
    api
      .reviewQueue(order)
      .then((loaded) => {
        if (attempt !== request.current) return;
        setItems(loaded);
        setSelectedId(null);
      })
      .catch((failure: unknown) => {
        if (attempt === request.current) setError(errorMessage(failure));
      });
  };
  useEffect(load, [order]);
  useFocusOnChange(headingRef, 'review');

  // Rated replies stay in place (nothing jumps), showing their rating.
  const rater = useRater((_conversationId, message) =>
    setItems((current) =>
      current
        ? current.map((item) => (item.message.id === message.id ? { ...item, message } : item))
        : current,
    ),
  );

  const ids = (items ?? []).map((item) => item.message.id);
  const select = (id: string | null) => {
    setSelectedId(id);
    if (id) {
      const element = itemRefs.current.get(id);
      element?.focus();
      element?.scrollIntoView({ block: 'nearest' });
    }
  };
  const selected = (items ?? []).find((item) => item.message.id === selectedId) ?? null;

  useShortcuts((action) => {
    if (!items || items.length === 0) return;
    switch (action) {
      case 'next':
      case 'previous':
        select(moveSelection(ids, selectedId, action === 'next' ? 1 : -1));
        return;
      case 'rate-up':
      case 'rate-down': {
        const item = selected ?? items[0]!;
        if (!selected) select(item.message.id);
        void rater
          .rate(item.conversationId, item.message, { value: action === 'rate-up' ? 'up' : 'down' })
          .then((ok) => {
            // Rating in bulk: on to the next reply.
            if (ok) select(moveSelection(ids, item.message.id, 1));
          });
        return;
      }
      case 'correct': {
        const item = selected ?? items[0]!;
        if (!selected) select(item.message.id);
        setCorrectingId(item.message.id);
        return;
      }
      default:
        return;
    }
  });

  const rated = (items ?? []).filter((item) => item.message.rating).length;

  return (
    <div class="review">
      <div class="page-head">
        <h1 tabIndex={-1} ref={headingRef}>
          Review queue
        </h1>
        <fieldset class="filters">
          <legend class="visually-hidden">Order</legend>
          {ORDERS.map((option) => (
            <button
              key={option.value}
              type="button"
              aria-pressed={order === option.value}
              onClick={() => setOrder(option.value)}
            >
              {option.label}
            </button>
          ))}
        </fieldset>
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      <p class="hint">
        Bot replies nobody has rated yet. <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>+</kbd>/<kbd>-</kbd> rate and
        go on to the next, <kbd>c</kbd> corrects.
      </p>
      {error ? (
        <div class="state state-error" role="alert">
          <p>{error}</p>
          <button type="button" onClick={load}>
            Try again
          </button>
        </div>
      ) : !items ? (
        <p class="state" role="status">
          Loading replies to review…
        </p>
      ) : items.length === 0 ? (
        <p class="state state-empty">Nothing to review: every recent bot reply is rated.</p>
      ) : (
        <>
          <p class="count" role="status">
            {rated} of {items.length} rated
          </p>
          <ol class="review-list" aria-label="Replies to review">
            {items.map((item) => (
              <ReviewCard
                key={item.message.id}
                item={item}
                selected={item.message.id === selectedId}
                cardRef={(element) => {
                  if (element) itemRefs.current.set(item.message.id, element);
                  else itemRefs.current.delete(item.message.id);
                }}
                onSelect={() => setSelectedId(item.message.id)}
              >
                <RatingControls
                  message={item.message}
                  busy={rater.busy.has(item.message.id)}
                  error={rater.errors.get(item.message.id) ?? null}
                  correcting={correctingId === item.message.id}
                  onCorrectingChange={(open) => {
                    setCorrectingId(open ? item.message.id : null);
                    if (!open) itemRefs.current.get(item.message.id)?.focus();
                  }}
                  rate={(rating) => rater.rate(item.conversationId, item.message, rating)}
                />
              </ReviewCard>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}

function ReviewCard({
  item,
  selected,
  cardRef,
  onSelect,
  children,
}: {
  item: ReviewItem;
  selected: boolean;
  cardRef: (element: HTMLElement | null) => void;
  onSelect: () => void;
  children: ComponentChildren;
}) {
  const context: ConsoleMessage[] = item.context;
  return (
    <li
      class={`review-card${selected ? ' selected' : ''}${item.message.rating ? ' rated' : ''}`}
      data-message-id={item.message.id}
      tabIndex={-1}
      ref={cardRef}
      aria-current={selected ? 'true' : undefined}
      onFocusIn={onSelect}
    >
      <ol class="messages context" aria-label="Before the reply">
        {context.map((message) => (
          <MessageItem key={message.id} message={message} />
        ))}
      </ol>
      <ol class="messages" aria-label="Bot reply">
        <MessageItem message={item.message}>{children}</MessageItem>
      </ol>
      <Link class="open-conversation" href={conversationPath(item.conversationId)}>
        Open the conversation
      </Link>
    </li>
  );
}
