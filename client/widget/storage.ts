/**
 * What the widget remembers in the visitor's browser, per site key: the signed visitor token, whether
 * the panel was open, and the last session's look (theme and texts) so the launcher is drawn in the
 * site's colours and language before the chat app loads. localStorage can be missing or throw
 * (storage blocked, sandboxed frames, quota): the widget then works without memory.
 */
import type { WidgetLook } from '../../server/realtime/widget/protocol.js';

export type { WidgetLook };

export interface WidgetStore {
  token(): string | null;
  setToken(token: string): void;
  wasOpen(): boolean;
  setOpen(open: boolean): void;
  look(): WidgetLook | null;
  setLook(look: WidgetLook): void;
}

export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export function widgetStore(
  siteKey: string,
  storage: KeyValueStorage | null = browserStorage(),
): WidgetStore {
  const key = (name: string) => `parley:${siteKey}:${name}`;
  const read = (name: string): string | null => {
    try {
      return storage?.getItem(key(name)) ?? null;
    } catch {
      return null;
    }
  };
  const write = (name: string, value: string | null): void => {
    try {
      if (value === null) storage?.removeItem(key(name));
      else storage?.setItem(key(name), value);
    } catch {
      // Full or blocked storage: forget rather than fail.
    }
  };
  return {
    token: () => read('token'),
    setToken: (token) => write('token', token),
    wasOpen: () => read('open') === '1',
    setOpen: (open) => write('open', open ? '1' : null),
    look: () => parseLook(read('look')),
    setLook: (look) => write('look', JSON.stringify(look)),
  };
}

function browserStorage(): KeyValueStorage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The stored look, or null when it is absent or not what this version of the widget wrote. */
export function parseLook(json: string | null): WidgetLook | null {
  if (!json) return null;
  try {
    const look = JSON.parse(json) as Partial<WidgetLook> | null;
    if (typeof look?.locale !== 'string' || !isStringRecord(look.theme) || !isStringRecord(look.texts)) {
      return null;
    }
    return look as WidgetLook;
  } catch {
    return null;
  }
}

function isStringRecord(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((entry) => typeof entry === 'string')
  );
}
