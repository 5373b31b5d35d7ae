/**
 * The chat app chunk (/widget/chat.js), loaded by the loader on first open: connects to Parley,
 * keeps the conversation and the outbox, and drives the panel.
 */
import type { WidgetMessage } from '../../../server/realtime/widget/protocol.js';
import { DEFAULT_TEXTS } from '../../../server/sites/default-texts.js';
import type { ChatContext, ChatHandle } from '../contract.js';
import { sendErrorText } from './compose.js';
import { browserLocales, connectWidget } from './connection.js';
import { Outbox } from './outbox.js';
import { createPanel, type PanelSite } from './panel.js';
import { Sender } from './sender.js';
import {
  type TimelineItem,
  timelineFromHistory,
  withoutPending,
  withPending,
  withStored,
} from './timeline.js';

/** Until the first session brings the site's limit. */
const DEFAULT_MAX_MESSAGE_CHARS = 1000;
const RECONNECTED_NOTICE_MS = 3000;
const CONTACT_ACK_TIMEOUT_MS = 10_000;
/** A refusal for sending too many connections is retried after this pause; other refusals are final. */
const RATE_LIMITED_RETRY_MS = 15_000;

export function mountChat(context: ChatContext): ChatHandle {
  const { store } = context;
  const look = store.look();
  // The last session's language and texts (or English) until this connection's session arrives.
  let site: PanelSite = {
    locale: look?.locale ?? 'en',
    texts: look?.texts ?? DEFAULT_TEXTS.en!,
    maxMessageChars: DEFAULT_MAX_MESSAGE_CHARS,
  };
  let timeline: TimelineItem[] = [];
  let hadSession = false;

  const showTimeline = (next: TimelineItem[]) => {
    timeline = next;
    panel.renderTimeline(timeline);
  };
  const announce = (message: WidgetMessage) => {
    showTimeline(withStored(timeline, message));
    context.messageReceived(message);
  };

  const socket = connectWidget(context.parleyOrigin, () => ({
    siteKey: context.siteKey,
    token: store.token(),
    locales: browserLocales(),
  }));
  const outbox = new Outbox();
  const sender = new Sender(
    {
      get connected() {
        return socket.connected;
      },
      sendMessage: (payload, timeoutMs) => socket.timeout(timeoutMs).emitWithAck('message:send', payload),
    },
    outbox,
    {
      stored: (message) => announce(message),
      refused(entry, refusal) {
        showTimeline(withoutPending(timeline, entry.clientMessageId));
        panel.sendFailed(entry.text, sendErrorText(refusal.error, refusal.message, site.texts));
      },
    },
  );

  const panel = createPanel(context.shadowRoot, context.root, site, {
    send(text) {
      const entry = outbox.add(crypto.randomUUID(), text);
      showTimeline(withPending(timeline, entry));
      void sender.flush();
    },
    askForPerson() {
      socket
        .timeout(CONTACT_ACK_TIMEOUT_MS)
        .emitWithAck('handoff:request', {})
        .then(
          (result) => {
            if (result.ok) panel.setHandoff(result.state);
            else panel.setStatus(result.message, 'error');
          },
          () => panel.setStatus(site.texts.connectionLost),
        );
    },
    leaveContact(email) {
      socket
        .timeout(CONTACT_ACK_TIMEOUT_MS)
        .emitWithAck('contact:leave', { email })
        .then(
          (result) => (result.ok ? panel.contactSent() : panel.contactFailed(result.message)),
          () => panel.contactFailed(site.texts.connectionLost),
        );
    },
    close: () => context.requestClose(),
  });

  socket.on('session', (session) => {
    store.setToken(session.token);
    site = session.site;
    context.lookChanged({
      locale: session.site.locale,
      theme: session.site.theme,
      texts: session.site.texts,
    });
    panel.setSite(site);
    outbox.settle(session.messages);
    outbox.requeueAll();
    panel.clearReplies();
    showTimeline(timelineFromHistory(session.messages, outbox.entries()));
    panel.setHandoff({
      mode: session.mode,
      reason: session.handoffReason,
      agentsOnline: session.agentsOnline,
    });
    panel.setAvailable(true);
    panel.setStatus(hadSession ? site.texts.reconnected : null, 'info', RECONNECTED_NOTICE_MS);
    hadSession = true;
    void sender.flush();
  });
  socket.on('message', announce);
  socket.on('handoff', (state) => panel.setHandoff(state));
  socket.on('reply:start', ({ replyId }) => panel.replyStarted(replyId));
  socket.on('reply:token', ({ replyId, delta }) => panel.replyDelta(replyId, delta));
  socket.on('reply:end', ({ replyId, message }) => {
    panel.replyEnded(replyId);
    if (message) announce(message);
  });

  socket.on('disconnect', (reason) => {
    if (reason === 'io client disconnect') return;
    panel.setStatus(site.texts.connectionLost);
    // The server closed this socket (a restart or a rolling deploy): Socket.IO does not reconnect
    // by itself then. A random pause spreads the reconnections of many visitors.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 500 + Math.random() * 2000);
  });
  socket.on('connect_error', (error) => {
    if (socket.active) {
      // A network failure: Socket.IO retries by itself.
      panel.setStatus(site.texts.connectionLost);
      return;
    }
    // Refused by Parley (unknown site, origin not allowed, …): its message says why, in English.
    panel.setStatus(`${site.texts.unavailable} ${error.message}`, 'error');
    panel.setAvailable(false);
    const code = (error as Error & { data?: { code?: string } }).data?.code;
    if (code === 'rate_limited') setTimeout(() => socket.connect(), RATE_LIMITED_RETRY_MS);
  });

  return {
    show: (options) => panel.show(options),
    hide: () => panel.hide(),
    identify(visitor) {
      socket.emit('visitor:identify', visitor, (result) => {
        if (!result.ok) console.warn(`[Parley] identify: ${result.message}`);
      });
    },
  };
}
