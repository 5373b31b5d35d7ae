/**
 * Sends the outbox's messages one at a time while connected. A send that times out or loses its
 * connection is retried with the same clientMessageId (after a pause, or when the next session
 * arrives); the server stores each id once and answers a repeat with `duplicate: true`.
 */
import type {
  Ack,
  SendMessage,
  SendMessageResult,
  WidgetMessage,
} from '../../../server/realtime/widget/protocol.js';
import type { Outbox, OutboxEntry } from './outbox.js';

export interface MessageTransport {
  readonly connected: boolean;
  /** Rejects when no ack comes within timeoutMs or the connection drops first. */
  sendMessage(payload: SendMessage, timeoutMs: number): Promise<Ack<SendMessageResult>>;
}

export interface SendResults {
  stored(message: WidgetMessage, duplicate: boolean): void;
  refused(entry: OutboxEntry, refusal: Extract<Ack, { ok: false }>): void;
}

export interface SenderOptions {
  ackTimeoutMs?: number;
  retryDelayMs?: number;
}

export class Sender {
  readonly #transport: MessageTransport;
  readonly #outbox: Outbox;
  readonly #results: SendResults;
  readonly #ackTimeoutMs: number;
  readonly #retryDelayMs: number;
  #flushing = false;
  #retry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    transport: MessageTransport,
    outbox: Outbox,
    results: SendResults,
    options: SenderOptions = {},
  ) {
    this.#transport = transport;
    this.#outbox = outbox;
    this.#results = results;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.#retryDelayMs = options.retryDelayMs ?? 3_000;
  }

  /** Sends every queued message, in order; resolves when the outbox is empty or sending must wait. */
  async flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (let entry = this.#outbox.next(); entry && this.#transport.connected; entry = this.#outbox.next()) {
        const { clientMessageId, text } = entry;
        this.#outbox.markSending(clientMessageId);
        let result: Ack<SendMessageResult>;
        try {
          result = await this.#transport.sendMessage({ clientMessageId, text }, this.#ackTimeoutMs);
        } catch {
          this.#outbox.requeue(clientMessageId);
          this.#retryLater();
          return;
        }
        // A session's history may have settled it while the ack was on its way.
        if (!this.#outbox.remove(clientMessageId)) continue;
        if (result.ok) this.#results.stored(result.message, result.duplicate);
        else this.#results.refused(entry, result);
      }
    } finally {
      this.#flushing = false;
    }
  }

  stop(): void {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
  }

  #retryLater(): void {
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.flush();
    }, this.#retryDelayMs);
  }
}
