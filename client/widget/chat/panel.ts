/**
 * The chat panel's DOM: a dialog with the conversation log, the handoff notice (with the offline
 * email form) and the message box. It draws what the chat app tells it and reports what the
 * visitor does; it knows nothing about sockets. Message text is only ever set as text.
 */
import type { HandoffState, WidgetMessage, WidgetTexts } from '../../../server/realtime/widget/protocol.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { CHAT_CSS } from './chat-styles.js';
import { canSend, messageLength } from './compose.js';
import { EMAIL_PATTERN, isValidEmail, normalizeEmail } from './email.js';
import { keepTabInside } from './focus-trap.js';
import type { TimelineItem } from './timeline.js';

export interface PanelActions {
  send(text: string): void;
  askForPerson(): void;
  leaveContact(email: string): void;
  close(): void;
}

export interface PanelSite {
  locale: string;
  texts: WidgetTexts;
  maxMessageChars: number;
}

/** Within this distance from the bottom, new content keeps the log scrolled to the end. */
const STICKY_SCROLL_PX = 48;

export function createPanel(
  shadowRoot: ShadowRoot,
  root: HTMLElement,
  site: PanelSite,
  actions: PanelActions,
) {
  let locale = site.locale;
  let texts = site.texts;
  let maxChars = site.maxMessageChars;
  let timeline: readonly TimelineItem[] = [];
  let handoff: HandoffState | null = null;
  let contactSent = false;
  let available = true;
  let statusTimer: ReturnType<typeof setTimeout> | undefined;

  const title = h('h2', { class: 'title', id: 'parley-title' });
  const closeButton = h('button', { type: 'button', class: 'close' }, icon('close'));
  const status = h('p', { class: 'status', role: 'status' });
  const greeting = h('div', { class: 'msg', 'data-role': 'bot' });
  const log = h('div', {
    class: 'log',
    role: 'log',
    'aria-live': 'polite',
    'aria-labelledby': 'parley-title',
    tabindex: 0,
  });
  const handoffArea = h('div', { class: 'handoff' });
  const input = h('textarea', {
    id: 'parley-input',
    rows: 1,
    'aria-describedby': 'parley-counter parley-error',
  });
  const inputLabel = h('label', { for: 'parley-input', class: 'sr-only' });
  const sendButton = h('button', { type: 'submit', class: 'send' });
  const counter = h('p', { class: 'counter', id: 'parley-counter' });
  const error = h('p', { class: 'error', id: 'parley-error', role: 'alert' });
  const composer = h('form', { class: 'composer' }, inputLabel, input, sendButton, counter, error);
  const panel = h(
    'div',
    {
      class: 'panel',
      id: 'parley-panel',
      role: 'dialog',
      'aria-modal': 'true',
      hidden: true,
      // connecting until the first session, then ready, or unavailable when refused.
      'data-state': 'connecting',
    },
    h('div', { class: 'header' }, title, closeButton),
    status,
    log,
    handoffArea,
    composer,
  );
  log.append(greeting);
  shadowRoot.prepend(h('style', {}, CHAT_CSS));
  root.append(panel);

  /** Rendered stored and pending messages by timeline key, and the bot's replies being streamed. */
  const messageElements = new Map<string, { item: TimelineItem; element: HTMLElement }>();
  const replies = new Map<string, { element: HTMLElement; text: Text | null }>();

  const label = () => {
    panel.lang = locale;
    panel.setAttribute('aria-label', texts.title);
    title.textContent = texts.title;
    closeButton.setAttribute('aria-label', texts.closeLabel);
    greeting.replaceChildren(who('bot'), h('p', {}, texts.greeting));
    inputLabel.textContent = texts.placeholder;
    input.placeholder = texts.placeholder;
    sendButton.textContent = texts.send;
    for (const reply of replies.values()) {
      const typing = reply.element.querySelector('.sr-only');
      if (typing) typing.textContent = texts.typing;
    }
    updateCounter();
  };

  const who = (role: WidgetMessage['role'], authorName: string | null = null) => {
    if (role === 'agent') return h('span', { class: 'who' }, authorName ?? texts.agentLabel);
    return h('span', { class: 'sr-only' }, role === 'customer' ? texts.youLabel : texts.botLabel);
  };

  const messageElement = (item: TimelineItem): HTMLElement => {
    if (item.kind === 'pending') {
      return h(
        'div',
        { class: 'msg', 'data-role': 'customer', 'data-state': 'pending' },
        who('customer'),
        h('p', {}, item.text),
      );
    }
    const { role, text, authorName } = item.message;
    return h('div', { class: 'msg', 'data-role': role }, who(role, authorName), h('p', {}, text));
  };

  const keepScrolledToEnd = (change: () => void) => {
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < STICKY_SCROLL_PX;
    change();
    if (atEnd) log.scrollTop = log.scrollHeight;
  };

  const renderTimeline = (items: readonly TimelineItem[], { relabel = false } = {}) => {
    timeline = items;
    keepScrolledToEnd(() => {
      const keys = new Set(items.map((item) => item.key));
      for (const [key, shown] of messageElements) {
        if (!keys.has(key)) {
          shown.element.remove();
          messageElements.delete(key);
        }
      }
      // Messages sit after the greeting and before any reply being streamed.
      let previous: Element = greeting;
      for (const item of items) {
        let shown = messageElements.get(item.key);
        if (!shown || shown.item !== item || relabel) {
          const element = messageElement(item);
          if (shown) shown.element.replaceWith(element);
          shown = { item, element };
          messageElements.set(item.key, shown);
        }
        if (previous.nextElementSibling !== shown.element) previous.after(shown.element);
        previous = shown.element;
      }
    });
  };

  const renderHandoff = () => {
    handoffArea.replaceChildren();
    if (!available || handoff?.mode === 'closed') return;
    if (!handoff || handoff.mode === 'bot') {
      const ask = h('button', { type: 'button', class: 'ask-person' }, texts.askForPerson);
      ask.addEventListener('click', () => {
        ask.disabled = true;
        actions.askForPerson();
      });
      handoffArea.append(ask);
      return;
    }
    if (handoff.mode === 'human') {
      handoffArea.append(h('p', { class: 'notice', role: 'status' }, texts.handoffJoined));
    } else if (handoff.agentsOnline) {
      handoffArea.append(h('p', { class: 'notice', role: 'status' }, texts.handoffWaiting));
    } else if (contactSent) {
      handoffArea.append(h('p', { class: 'notice', role: 'status' }, texts.emailThanks));
    } else {
      handoffArea.append(h('p', { class: 'notice', role: 'status' }, texts.offline), contactForm());
    }
  };

  const contactForm = () => {
    const email = h('input', {
      id: 'parley-email',
      type: 'email',
      name: 'email',
      autocomplete: 'email',
      required: true,
      pattern: EMAIL_PATTERN,
      'aria-describedby': 'parley-email-error',
    });
    const submit = h('button', { type: 'submit', class: 'submit' }, texts.emailSubmit);
    const problem = h('p', { class: 'error', id: 'parley-email-error', role: 'alert' });
    const form = h(
      'form',
      // Validated on submit, so aria-invalid is set too; the browser still explains the mismatch.
      { class: 'contact', novalidate: true },
      h('label', { for: 'parley-email' }, texts.emailLabel),
      h('div', { class: 'row' }, email, submit),
      problem,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = normalizeEmail(email.value);
      const valid = isValidEmail(value);
      email.setAttribute('aria-invalid', String(!valid));
      if (!valid) {
        email.reportValidity();
        email.focus();
        return;
      }
      submit.disabled = true;
      problem.textContent = '';
      actions.leaveContact(value);
    });
    return form;
  };

  const updateCounter = () => {
    const length = messageLength(input.value);
    counter.textContent = length > 0 ? `${length} / ${maxChars}` : '';
    counter.toggleAttribute('data-over', length > maxChars);
  };

  const showError = (text: string) => {
    error.textContent = text;
  };

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    if (messageLength(input.value) > maxChars) {
      showError(texts.messageTooLong);
      return;
    }
    if (!canSend(input.value, maxChars)) return;
    const text = input.value.trim();
    input.value = '';
    showError('');
    updateCounter();
    actions.send(text);
  });
  input.addEventListener('input', () => {
    updateCounter();
    if (messageLength(input.value) <= maxChars && error.textContent === texts.messageTooLong) showError('');
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  closeButton.addEventListener('click', () => actions.close());
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      actions.close();
    } else {
      keepTabInside(event, panel, shadowRoot.activeElement);
    }
  });

  function replyStarted(replyId: string) {
    if (replies.has(replyId)) return;
    // Streaming text is hidden from screen readers; the stored reply is announced once, whole.
    const element = h(
      'div',
      { class: 'msg', 'data-role': 'bot', 'aria-hidden': 'true' },
      h('span', { class: 'dots' }, h('i'), h('i'), h('i')),
      h('span', { class: 'sr-only' }, texts.typing),
    );
    replies.set(replyId, { element, text: null });
    keepScrolledToEnd(() => log.append(element));
  }

  function replyDelta(replyId: string, delta: string) {
    if (!replies.has(replyId)) replyStarted(replyId);
    const reply = replies.get(replyId)!;
    keepScrolledToEnd(() => {
      if (!reply.text) {
        reply.text = document.createTextNode('');
        reply.element.replaceChildren(h('p', {}, reply.text));
      }
      reply.text.appendData(delta);
    });
  }

  label();

  return {
    show({ focus }: { focus: boolean }) {
      panel.hidden = false;
      log.scrollTop = log.scrollHeight;
      if (focus) (input.disabled ? closeButton : input).focus();
    },
    hide() {
      panel.hidden = true;
    },
    setSite(next: PanelSite) {
      locale = next.locale;
      texts = next.texts;
      maxChars = next.maxMessageChars;
      label();
      renderTimeline(timeline, { relabel: true });
      renderHandoff();
    },
    renderTimeline: (items: readonly TimelineItem[]) => renderTimeline(items),
    setHandoff(state: HandoffState) {
      handoff = state;
      renderHandoff();
    },
    contactSent() {
      contactSent = true;
      renderHandoff();
    },
    contactFailed(message: string) {
      const form = handoffArea.querySelector('form');
      if (!form) return;
      form.querySelector('button')!.disabled = false;
      form.querySelector('.error')!.textContent = message;
    },
    /** A notice about the connection; `autoClearMs` for ones that only confirm (reconnected). */
    setStatus(text: string | null, kind: 'info' | 'error' = 'info', autoClearMs?: number) {
      clearTimeout(statusTimer);
      status.textContent = text ?? '';
      status.dataset.kind = kind;
      if (autoClearMs) statusTimer = setTimeout(() => (status.textContent = ''), autoClearMs);
    },
    /** Unavailable (the connection was refused): no greeting inviting questions, no message box. */
    setAvailable(isAvailable: boolean) {
      available = isAvailable;
      panel.dataset.state = available ? 'ready' : 'unavailable';
      renderHandoff();
      greeting.hidden = !available;
      input.disabled = !available;
      sendButton.disabled = !available;
    },
    /** A send was refused: say why and give the visitor's words back, unless they typed anew. */
    sendFailed(text: string, reason: string) {
      if (input.value.trim() === '') {
        input.value = text;
        updateCounter();
      }
      showError(reason);
    },
    replyStarted,
    replyDelta,
    replyEnded(replyId: string) {
      replies.get(replyId)?.element.remove();
      replies.delete(replyId);
    },
    clearReplies() {
      for (const reply of replies.values()) reply.element.remove();
      replies.clear();
    },
  };
}
