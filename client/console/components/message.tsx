/** One message of a conversation, as text (never HTML); bot replies show their model version, confidence and rating. */
import type { ComponentChildren, Ref } from 'preact';
import type { ConsoleMessage } from '../../../server/realtime/agent/protocol.js';
import { formatConfidence } from '../thread-state.js';

const ROLE_LABELS = { customer: 'Visitor', bot: 'Bot', agent: 'Agent' } as const;

export function authorOf(message: ConsoleMessage): string {
  if (message.role === 'agent' && message.authorName) return message.authorName;
  return ROLE_LABELS[message.role];
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export interface MessageItemProps {
  message: ConsoleMessage;
  selected?: boolean;
  itemRef?: Ref<HTMLLIElement>;
  onSelect?: () => void;
  children?: ComponentChildren;
}

export function MessageItem({ message, selected = false, itemRef, onSelect, children }: MessageItemProps) {
  const confidence = formatConfidence(message.confidence);
  const bot = message.role === 'bot';
  return (
    <li
      class={`msg msg-${message.role}${selected ? ' selected' : ''}`}
      data-role={message.role}
      data-message-id={message.id}
      ref={itemRef}
      tabIndex={bot ? -1 : undefined}
      aria-current={selected ? 'true' : undefined}
      onFocusIn={onSelect}
    >
      <div class="msg-head">
        <span class="author">{authorOf(message)}</span>
        <time dateTime={message.ts} title={new Date(message.ts).toLocaleString()}>
          {formatTime(message.ts)}
        </time>
        {bot && (
          <span class="model-meta">
            {message.modelVersion ? <span class="version">Model {message.modelVersion}</span> : null}
            {confidence ? <span class="confidence">{confidence} confident</span> : null}
          </span>
        )}
      </div>
      <p class="text">{message.text}</p>
      {children}
    </li>
  );
}

/** A bot reply still streaming: shown, but hidden from screen readers until it is stored (then announced once). */
export function DraftItem({ text }: { text: string }) {
  return (
    <li class="msg msg-bot draft" aria-hidden="true">
      <div class="msg-head">
        <span class="author">Bot</span>
        <span class="streaming">writing…</span>
      </div>
      <p class="text">{text}</p>
    </li>
  );
}
