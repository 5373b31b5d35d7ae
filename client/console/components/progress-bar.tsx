/** A labelled progress bar (the native <progress>, so screen readers announce it). */
export function ProgressBar({
  value,
  max,
  label,
  text,
}: {
  value: number;
  /** null: how much is left is unknown (an indeterminate bar). */
  max: number | null;
  label: string;
  text: string;
}) {
  return (
    <div class="progress">
      <div class="progress-label">
        <span>{label}</span>
        <span class="progress-text">{text}</span>
      </div>
      {max === null || max <= 0 ? (
        <progress aria-label={label} />
      ) : (
        <progress aria-label={label} value={Math.min(value, max)} max={max} />
      )}
    </div>
  );
}
