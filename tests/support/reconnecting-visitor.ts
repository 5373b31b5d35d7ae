/**
 * A visitor that behaves like the browser widget when its server goes away: Socket.IO reconnects
 * by itself, each reconnection brings the newest visitor token, and unacknowledged messages are
 * resent with the same clientMessageId through the widget's own Outbox and Sender. It keeps the
 * conversation as the widget shows it, and every message id it received live, in order.
 */
import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { Outbox } from '../../client/widget/chat/outbox.js';
import { Sender } from '../../client/widget/chat/sender.js';
import type { WidgetMessage } from '../../server/realtime/widget/protocol.js';
import type { VisitorSocket } from './widget-client.js';

export class ReconnectingVisitor {
  readonly socket: VisitorSocket;
  /** The conversation as the widget shows it: the last session's history plus what arrived since. */
  timeline: WidgetMessage[] = [];
  /** Ids of the messages and stored replies received live (not in a session), in arrival order. */
  readonly liveIds: string[] = [];
  /** Sessions received: 1 plus the reconnections. */
  sessions = 0;
  /** Customer message ids whose bot reply ended empty (nothing to store). */
  readonly emptyReplies = new Set<string>();
  conversationId: string | null = null;
  private token: string | null = null;
  private readonly outbox = new Outbox();
  private readonly sender: Sender;
  private readonly changed = new Set<() => void>();

  constructor(url: string, options: { siteKey: string; origin: string }) {
    this.socket = io(`${url}/widget`, {
      auth: (send) => send({ siteKey: options.siteKey, token: this.token, locales: ['en-US'] }),
      extraHeaders: { origin: options.origin },
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    });
    this.sender = new Sender(
      {
        get connected() {
          return socket.connected;
        },
        sendMessage: (payload, timeoutMs) => socket.timeout(timeoutMs).emitWithAck('message:send', payload),
      },
      this.outbox,
      {
        stored: (message) => this.add(message, false),
        refused: (entry, refusal) => {
          throw new Error(`message ${entry.clientMessageId} refused: ${refusal.error} ${refusal.message}`);
        },
      },
      { ackTimeoutMs: 5000, retryDelayMs: 300 },
    );
    const socket = this.socket;
    socket.on('session', (session) => {
      this.sessions += 1;
      this.token = session.token;
      this.conversationId = session.conversationId;
      this.timeline = [...session.messages];
      this.outbox.settle(session.messages);
      this.outbox.requeueAll();
      this.notify();
      void this.sender.flush();
    });
    socket.on('message', (message) => this.add(message, true));
    socket.on('reply:end', ({ message }) => {
      if (message) return this.add(message, true);
      const last = this.timeline.at(-1);
      if (last?.role === 'customer') this.emptyReplies.add(last.id);
      this.notify();
    });
    // A server that closes the socket (a graceful restart) is not reconnected to by Socket.IO.
    socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 100);
    });
  }

  /** Resolves with the first session. */
  connected(): Promise<void> {
    return this.until(() => this.sessions > 0);
  }

  /** Queues a message (sent now, or after the reconnection); resolves with its clientMessageId. */
  say(text: string): string {
    const clientMessageId = randomUUID();
    this.outbox.add(clientMessageId, text);
    void this.sender.flush();
    return clientMessageId;
  }

  /** The stored message sent with this clientMessageId, once the visitor sees it. */
  stored(clientMessageId: string): WidgetMessage | undefined {
    return this.timeline.find((m) => m.clientMessageId === clientMessageId);
  }

  /** Resolves once the message is stored and answered (a stored reply after it, or an empty one). */
  answered(clientMessageId: string): Promise<void> {
    return this.until(() => {
      const index = this.timeline.findIndex((m) => m.clientMessageId === clientMessageId);
      if (index === -1) return false;
      const message = this.timeline[index]!;
      return (
        this.timeline.slice(index + 1).some((m) => m.role === 'bot') || this.emptyReplies.has(message.id)
      );
    });
  }

  close(): void {
    this.sender.stop();
    this.socket.close();
  }

  private add(message: WidgetMessage, live: boolean): void {
    if (live) this.liveIds.push(message.id);
    if (!this.timeline.some((m) => m.id === message.id)) this.timeline.push(message);
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.changed]) listener();
  }

  /** Resolves once `done` holds, checked whenever something arrives. */
  until(done: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        this.changed.delete(check);
        resolve();
      };
      this.changed.add(check);
      check();
    });
  }
}
