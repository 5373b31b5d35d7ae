/** The keyboard shortcuts, in a modal dialog (the native <dialog>: focus stays inside, Escape closes). */
import { useModal } from '../hooks.js';
import { SHORTCUTS } from '../shortcuts.js';

export function HelpDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const ref = useModal(open);

  return (
    <dialog ref={ref} class="help" aria-labelledby="help-title" onClose={onClose}>
      <h2 id="help-title">Keyboard shortcuts</h2>
      <p class="hint">In the inbox and the review queue, while no text field has the focus.</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Keys</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map((shortcut) => (
            <tr key={shortcut.action}>
              <td>
                {shortcut.keys.map((key, i) => (
                  <span key={key}>
                    {i > 0 ? ' or ' : ''}
                    <kbd>{KEY_NAMES[key] ?? key}</kbd>
                  </span>
                ))}
              </td>
              <td>{shortcut.description}</td>
            </tr>
          ))}
          <tr>
            <td>
              <kbd>Esc</kbd>
            </td>
            <td>Close a dialog or the correction field</td>
          </tr>
        </tbody>
      </table>
      <form method="dialog">
        <button type="submit" class="primary">
          Close
        </button>
      </form>
    </dialog>
  );
}

const KEY_NAMES: Record<string, string> = { ArrowDown: '↓', ArrowUp: '↑' };
