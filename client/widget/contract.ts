/**
 * The interface between the loader (/widget.js, on every page) and the chat app chunk (loaded on
 * first open). The loader owns the launcher and the open state; the chat app owns the panel and
 * the connection.
 */
import type { Identify, WidgetMessage } from '../../server/realtime/widget/protocol.js';
import type { WidgetLook, WidgetStore } from './storage.js';

export interface ChatContext {
  siteKey: string;
  /** Parley's origin, from the loader script's own src. */
  parleyOrigin: string;
  /** The widget's root element inside the closed shadow root; the panel is added to it. */
  root: HTMLElement;
  shadowRoot: ShadowRoot;
  launcher: HTMLButtonElement;
  store: WidgetStore;
  /** The panel asks to close (Escape, its close button): the loader closes it and restores focus. */
  requestClose(): void;
  /** A session arrived with the site's look for this visitor: the loader redraws the launcher. */
  lookChanged(look: WidgetLook): void;
  /** A new message in the conversation: the loader tells `Parley.on('message')` listeners. */
  messageReceived(message: WidgetMessage): void;
}

export interface ChatHandle {
  /** focus: move focus into the panel (false when reopening by itself after a reload). */
  show(options: { focus: boolean }): void;
  hide(): void;
  identify(visitor: Identify): void;
}

export interface ChatModule {
  mountChat(context: ChatContext): ChatHandle;
}
