/**
 * Asks before an action that changes what visitors get (promote, roll back, disable): a modal
 * <dialog> (focus inside, Escape cancels), the action's button first in line, its error shown in
 * place and the dialog kept open so it can be retried.
 */
import type { ComponentChildren } from 'preact';
import { useModal } from '../hooks.js';

export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  busy,
  error,
  danger = false,
  confirmDisabled = false,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children?: ComponentChildren;
  confirmLabel: string;
  busy: boolean;
  error: string | null;
  danger?: boolean;
  confirmDisabled?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useModal(open);

  return (
    <dialog
      ref={ref}
      class="confirm"
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <form
        method="dialog"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (!busy && !confirmDisabled) onConfirm();
        }}
      >
        <h2 id="confirm-title" class="confirm-title">
          {title}
        </h2>
        <div class="confirm-body">{children}</div>
        <p class="error form-error" role="alert">
          {error}
        </p>
        <div class="actions">
          <button type="submit" class={danger ? 'danger' : 'primary'} disabled={busy || confirmDisabled}>
            {busy ? 'Working…' : confirmLabel}
          </button>
          <button type="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
