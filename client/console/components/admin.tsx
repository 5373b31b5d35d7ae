/** Pieces the admin pages share: the page frame, loading/empty/error states, form fields, status badges. */
import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';
import type { Resource } from '../hooks.js';
import { useFocusOnChange } from '../hooks.js';

export function AdminPage({
  title,
  focusKey,
  actions,
  intro,
  children,
  wide = false,
}: {
  title: ComponentChildren;
  /** The heading takes the focus when this changes (a new page). */
  focusKey: unknown;
  actions?: ComponentChildren;
  intro?: ComponentChildren;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useFocusOnChange(headingRef, focusKey);
  return (
    <div class={`admin${wide ? ' admin-wide' : ''}`}>
      <div class="page-head">
        <h1 tabIndex={-1} ref={headingRef}>
          {title}
        </h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </div>
      {intro ? <p class="hint intro">{intro}</p> : null}
      {children}
    </div>
  );
}

/**
 * Draws a resource: the loading line the first time, the error with "Try again", the empty state
 * when `isEmpty`, else `children` (kept on screen while a reload runs).
 */
export function Loaded<T>({
  resource,
  reload,
  what,
  empty,
  isEmpty,
  children,
}: {
  resource: Resource<T>;
  reload: () => void;
  /** "versions": "Loading versions…" */
  what: string;
  empty?: ComponentChildren;
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ComponentChildren;
}) {
  if (resource.state === 'failed' && resource.data === null) {
    return (
      <div class="state state-error" role="alert">
        <p>
          Could not load {what}: {resource.error}
        </p>
        <button type="button" onClick={reload}>
          Try again
        </button>
      </div>
    );
  }
  if (resource.data === null) {
    return (
      <p class="state" role="status">
        Loading {what}…
      </p>
    );
  }
  return (
    <>
      {resource.state === 'failed' ? (
        <p class="inline-error" role="alert">
          Could not refresh {what}: {resource.error}{' '}
          <button type="button" class="link-button" onClick={reload}>
            Try again
          </button>
        </p>
      ) : null}
      {isEmpty?.(resource.data) ? <p class="state state-empty">{empty}</p> : children(resource.data)}
    </>
  );
}

export function Field({
  id,
  label,
  help,
  error,
  children,
}: {
  id: string;
  label: string;
  help?: string;
  error?: string | undefined;
  children: ComponentChildren;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {help ? (
        <p class="hint" id={`${id}-help`}>
          {help}
        </p>
      ) : null}
      <p class="error field-error" id={`${id}-error`}>
        {error ?? ''}
      </p>
    </div>
  );
}

/** aria props for a field's input: its help and error described, invalid when there is an error. */
export const describedBy = (id: string, error: string | undefined, help = true) => ({
  id,
  'aria-invalid': error ? true : undefined,
  'aria-describedby': [help ? `${id}-help` : null, `${id}-error`].filter(Boolean).join(' '),
});

/** A `Field` around a one-line <input>: its help (when given) and error described, `onValue` on each keystroke. */
export function TextField({
  id,
  label,
  help,
  error,
  value,
  onValue,
  type = 'text',
  inputMode,
  autocomplete,
  spellcheck,
}: {
  id: string;
  label: string;
  help?: string;
  error?: string | undefined;
  value: string;
  onValue: (value: string) => void;
  type?: 'text' | 'password' | 'email' | 'date';
  inputMode?: 'decimal' | 'numeric';
  autocomplete?: string;
  spellcheck?: boolean;
}) {
  return (
    <Field id={id} label={label} help={help} error={error}>
      <input
        {...describedBy(id, error, Boolean(help))}
        // Preact types each input type with the roles it allows, a union one variable cannot meet; no role here.
        type={type as 'text'}
        inputMode={inputMode}
        autocomplete={autocomplete}
        spellcheck={spellcheck}
        value={value}
        onInput={(event) => onValue(event.currentTarget.value)}
      />
    </Field>
  );
}

const STATUS_TONES: Record<string, string> = {
  active: 'ok',
  ready: 'ok',
  succeeded: 'ok',
  running: 'info',
  building: 'info',
  queued: 'info',
  candidate: 'neutral',
  retired: 'neutral',
  cancelled: 'neutral',
  failed: 'bad',
  disabled: 'bad',
};

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span class={`badge status-${STATUS_TONES[status] ?? 'neutral'}`}>{label ?? status}</span>;
}

/** What an agent sees at an admin page. */
export function AdminsOnly() {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useFocusOnChange(headingRef, 'admins-only');
  return (
    <div class="state admins-only">
      <h1 tabIndex={-1} ref={headingRef}>
        Admins only
      </h1>
      <p>This page is for Parley admins. Ask an admin if you need something changed here.</p>
    </div>
  );
}
