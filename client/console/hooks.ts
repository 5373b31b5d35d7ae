/** Hooks the console's pages share. */
import type { RefObject } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ConsoleMessage, RateRequest } from '../../server/realtime/agent/protocol.js';
import { type AdminApi, adminApi } from './admin-api.js';
import { errorMessage } from './api.js';
import { useConsole } from './context.js';
import { type ShortcutAction, shortcutFor } from './shortcuts.js';

/**
 * Runs `handler` for shortcut keys pressed anywhere on the page (never while typing in a field).
 * `?` (help) belongs to the shell, which opens the shortcuts dialog on every page.
 */
export function useShortcuts(
  handler: (action: Exclude<ShortcutAction, 'help'>, event: KeyboardEvent) => void,
): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented) return;
      const action = pageShortcut(event);
      if (!action || action === 'help') return;
      event.preventDefault();
      latest.current(action, event);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

/** The shortcut a key press on the page means; none while a dialog open on top (help, say) has the keys. */
export function pageShortcut(event: KeyboardEvent): ShortcutAction | null {
  if (document.querySelector('dialog[open]')) return null;
  return shortcutFor({
    key: event.key,
    ctrlKey: event.ctrlKey,
    metaKey: event.metaKey,
    altKey: event.altKey,
    isComposing: event.isComposing,
    target: event.target as HTMLElement | null,
  });
}

/** A modal <dialog> (showModal: focus inside, Escape cancels) shown while `open`, closed when not. */
export function useModal(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return ref;
}

/** Moves the focus to `ref` whenever `key` changes (a new page, another conversation). */
export function useFocusOnChange(ref: RefObject<HTMLElement | null>, key: unknown): void {
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, [key]);
}

export interface Rater {
  rate(conversationId: string, message: ConsoleMessage, request: RateRequest): Promise<boolean>;
  busy: ReadonlySet<string>;
  errors: ReadonlyMap<string, string>;
}

/** Rates bot replies, one request per reply at a time, and remembers each reply's last error. */
export function useRater(onRated: (conversationId: string, message: ConsoleMessage) => void): Rater {
  const { api } = useConsole();
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const [errors, setErrors] = useState<ReadonlyMap<string, string>>(new Map());
  const inFlight = useRef(new Set<string>());
  const latest = useRef(onRated);
  latest.current = onRated;

  const rate = useCallback(
    async (conversationId: string, message: ConsoleMessage, request: RateRequest) => {
      if (inFlight.current.has(message.id)) return false;
      inFlight.current.add(message.id);
      setBusy(new Set(inFlight.current));
      try {
        const rated = await api.rate(conversationId, message.id, request);
        setErrors((current) => without(current, message.id));
        latest.current(conversationId, rated);
        return true;
      } catch (error) {
        setErrors((current) => new Map(current).set(message.id, errorMessage(error)));
        return false;
      } finally {
        inFlight.current.delete(message.id);
        setBusy(new Set(inFlight.current));
      }
    },
    [api],
  );
  return { rate, busy, errors };
}

function without<K, V>(map: ReadonlyMap<K, V>, key: K): ReadonlyMap<K, V> {
  if (!map.has(key)) return map;
  const next = new Map(map);
  next.delete(key);
  return next;
}

/** Calls `load` now and after every reconnection of the live connection. */
export function useOnReconnect(load: () => void): void {
  const { live } = useConsole();
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => live.onReconnect(() => latest.current()), [live]);
}

export type Resource<T> =
  | { state: 'loading'; data: T | null }
  | { state: 'ready'; data: T }
  | { state: 'failed'; data: T | null; error: string };

/**
 * Loads what a page shows with `load` (again when `key` changes, on `reload()`, and after a
 * reconnection). A reload keeps the data on screen, so nothing jumps while it runs.
 */
export function useResource<T>(load: () => Promise<T>, key: unknown = null): [Resource<T>, () => void] {
  const [resource, setResource] = useState<Resource<T>>({ state: 'loading', data: null });
  const attempt = useRef(0);
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(() => {
    const mine = ++attempt.current;
    setResource((current) => ({ state: 'loading', data: current.data }));
    latest
      .current()
      .then((data) => {
        if (mine === attempt.current) setResource({ state: 'ready', data });
      })
      .catch((failure: unknown) => {
        if (mine === attempt.current)
          setResource((current) => ({ state: 'failed', data: current.data, error: errorMessage(failure) }));
      });
  }, []);
  useEffect(reload, [key]);
  useOnReconnect(reload);
  return [resource, reload];
}

/** The admin endpoints for this console (memoized per API client). */
export function useAdminApi(): AdminApi {
  const { api } = useConsole();
  return useMemo(() => adminApi(api), [api]);
}
