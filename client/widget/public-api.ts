/** `window.Parley`: the page's handle on the widget. */
import type { Identify, WidgetMessage } from '../../server/realtime/widget/protocol.js';

export type MessageListener = (message: WidgetMessage) => void;

export interface ParleyApi {
  open(): void;
  close(): void;
  /** The signed-in visitor's name and email, kept apart from the conversation. */
  identify(visitor: Identify): void;
  /** Called with every new message once the chat is open; returns a function that unsubscribes. */
  on(event: 'message', listener: MessageListener): () => void;
}

declare global {
  interface Window {
    Parley?: ParleyApi;
  }
}

/** Listeners for `Parley.on('message')`; one that throws does not stop the others or the widget. */
export class MessageListeners {
  readonly #listeners = new Set<MessageListener>();

  add(event: string, listener: MessageListener): () => void {
    if (event !== 'message') throw new Error(`Parley.on: unknown event "${event}" (known: message)`);
    if (typeof listener !== 'function') throw new Error('Parley.on: the listener must be a function');
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(message: WidgetMessage): void {
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch (error) {
        console.error('[Parley] a message listener threw', error);
      }
    }
  }
}
