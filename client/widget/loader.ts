/**
 * /widget.js: the one script tag a site embeds. Draws the launcher in a closed shadow root and
 * loads the chat app (/widget/chat.js, with socket.io-client) only when the panel opens, or at
 * once when the visitor left it open on the previous page.
 */
import type { ChatContext, ChatHandle, ChatModule } from './contract.js';
import { h } from './dom.js';
import { createLauncher } from './launcher.js';
import { LOADER_CSS } from './loader-styles.js';
import { MessageListeners } from './public-api.js';
import { type WidgetLook, widgetStore } from './storage.js';
import { applyTheme } from './theme.js';

/** Replaced at build time with the chat chunk's path (with a content hash, so caches never mix versions). */
declare const __PARLEY_CHAT_PATH__: string;

const ALERT_MS = 8000;
/** How long a first visit waits for the site's look before showing the default launcher. */
const LOOK_WAIT_MS = 1500;

/** The site's look for this browser's languages; null when Parley cannot say (it is only cosmetic). */
async function fetchLook(parleyOrigin: string, siteKey: string): Promise<WidgetLook | null> {
  const url = new URL('/widget/look', parleyOrigin);
  url.searchParams.set('key', siteKey);
  url.searchParams.set('locales', [...(navigator.languages ?? [])].join(','));
  try {
    const response = await fetch(url, { credentials: 'omit' });
    return response.ok ? ((await response.json()) as WidgetLook) : null;
  } catch {
    return null;
  }
}

function start(script: HTMLOrSVGScriptElement | null): void {
  if (!(script instanceof HTMLScriptElement) || !script.src) {
    console.error('[Parley] load widget.js with <script src="…/widget.js" data-site-key="…" async>');
    return;
  }
  const siteKey = script.dataset.siteKey;
  if (!siteKey) {
    console.error('[Parley] the widget script tag has no data-site-key attribute');
    return;
  }
  if (window.Parley) {
    console.warn('[Parley] widget.js is on this page twice; the second copy does nothing');
    return;
  }
  const parleyOrigin = new URL(script.src).origin;
  const chatUrl = new URL(__PARLEY_CHAT_PATH__, parleyOrigin).href;
  const store = widgetStore(siteKey);
  const listeners = new MessageListeners();
  const queuedIdentities: Parameters<ChatHandle['identify']>[0][] = [];

  const host = document.createElement('parley-widget');
  const shadowRoot = host.attachShadow({ mode: 'closed' });
  const root = h('div', { class: 'parley' });
  const launcher = createLauncher(() => (isOpen ? close() : open({ focus: true })));
  shadowRoot.append(h('style', {}, LOADER_CSS), root);
  root.append(launcher.button);

  let isOpen = false;
  let handle: ChatHandle | null = null;
  let loading: Promise<ChatHandle> | null = null;

  const showLook = (look: ReturnType<typeof store.look>) => {
    launcher.setLook(look);
    // The built-in labels are English until a session brings the visitor's language.
    root.lang = look?.locale ?? 'en';
    if (look) applyTheme(root, look.theme);
  };
  const storedLook = store.look();
  showLook(storedLook);

  const context: ChatContext = {
    siteKey,
    parleyOrigin,
    root,
    shadowRoot,
    launcher: launcher.button,
    store,
    requestClose: () => close(),
    lookChanged(look) {
      store.setLook(look);
      showLook(look);
    },
    messageReceived: (message) => listeners.emit(message),
  };

  // A first visit has no stored look: keep the launcher hidden until the site's arrives (or a
  // moment passes), rather than flash the default colours. Later visits refresh it quietly.
  if (!storedLook) root.dataset.pending = '';
  const reveal = () => delete root.dataset.pending;
  const revealTimer = setTimeout(reveal, LOOK_WAIT_MS);
  fetchLook(parleyOrigin, siteKey)
    .then((look) => {
      if (look) context.lookChanged(look);
    })
    .finally(() => {
      clearTimeout(revealTimer);
      reveal();
    });

  const loadChat = (): Promise<ChatHandle> => {
    loading ??= (import(chatUrl) as Promise<ChatModule>).then(({ mountChat }) => {
      handle = mountChat(context);
      for (const visitor of queuedIdentities.splice(0)) handle.identify(visitor);
      return handle;
    });
    return loading;
  };

  function open({ focus }: { focus: boolean }): void {
    isOpen = true;
    store.setOpen(true);
    launcher.setOpen(true);
    root.dataset.open = '';
    loadChat().then(
      (chat) => {
        if (isOpen) chat.show({ focus });
      },
      (error: unknown) => {
        loading = null;
        console.error('[Parley] could not load the chat', error);
        close();
        showAlert(store.look()?.texts.unavailable ?? 'Chat is unavailable.');
      },
    );
  }

  function close(): void {
    const focusWasInPanel = shadowRoot.activeElement !== null && shadowRoot.activeElement !== launcher.button;
    isOpen = false;
    store.setOpen(false);
    launcher.setOpen(false);
    delete root.dataset.open;
    handle?.hide();
    if (focusWasInPanel) launcher.button.focus();
  }

  function showAlert(text: string): void {
    const alert = h('p', { class: 'alert', role: 'alert' }, text);
    root.append(alert);
    setTimeout(() => alert.remove(), ALERT_MS);
  }

  window.Parley = {
    open: () => open({ focus: true }),
    close,
    identify(visitor) {
      if (handle) handle.identify(visitor);
      else queuedIdentities.push(visitor);
    },
    on: (event, listener) => listeners.add(event, listener),
  };

  const mount = () => {
    document.body.append(host);
    if (store.wasOpen()) open({ focus: false });
    window.dispatchEvent(new Event('parley:ready'));
  };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
}

start(document.currentScript);
