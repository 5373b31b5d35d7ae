/** The launcher: a real button that opens and closes the chat panel. */
import { h } from './dom.js';
import { icon } from './icons.js';
import type { WidgetLook } from './storage.js';

/** Until the first session says otherwise (the visitor's language comes with it). */
const DEFAULT_LABELS = { openLabel: 'Open chat', closeLabel: 'Close chat' };

export interface Launcher {
  button: HTMLButtonElement;
  setOpen(open: boolean): void;
  setLook(look: WidgetLook | null): void;
}

export function createLauncher(onClick: () => void): Launcher {
  const button = h('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false' });
  button.addEventListener('click', onClick);
  let open = false;
  let look: WidgetLook | null = null;

  const draw = () => {
    const labels = look?.texts ?? DEFAULT_LABELS;
    button.setAttribute('aria-label', open ? labels.closeLabel : labels.openLabel);
    button.setAttribute('aria-expanded', String(open));
    button.replaceChildren(icon(open ? 'close' : (look?.theme.launcherIcon ?? 'chat')));
  };
  draw();

  return {
    button,
    setOpen(next) {
      open = next;
      draw();
    },
    setLook(next) {
      look = next;
      if (next) button.lang = next.locale;
      draw();
    },
  };
}
