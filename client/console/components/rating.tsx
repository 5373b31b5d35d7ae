/**
 * Rating one bot reply: good, bad (with reason tags) or a corrected reply. Used by the
 * conversation view and the review queue; the same keys drive it there (+, -, c).
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import {
  type ConsoleMessage,
  RATING_REASONS,
  type RateRequest,
  type RatingReason,
} from '../../../server/realtime/agent/protocol.js';
import { relativeTime } from '../inbox-state.js';
import { Pencil, ThumbDown, ThumbUp } from './icons.js';

export const REASON_LABELS: Record<RatingReason, string> = {
  wrong: 'Wrong',
  unhelpful: 'Unhelpful',
  rude: 'Rude',
  'off-topic': 'Off topic',
  'made-up': 'Made up',
  'too-long': 'Too long',
  other: 'Other',
};

const VALUE_LABELS = { up: 'good', down: 'bad', corrected: 'corrected' } as const;

export interface RatingControlsProps {
  message: ConsoleMessage;
  busy: boolean;
  error: string | null;
  /** The correction form is open (the `c` key or the Correct button). */
  correcting: boolean;
  onCorrectingChange: (open: boolean) => void;
  rate: (request: RateRequest) => Promise<boolean>;
}

export function RatingControls({
  message,
  busy,
  error,
  correcting,
  onCorrectingChange,
  rate,
}: RatingControlsProps) {
  const rating = message.rating;
  const [reasons, setReasons] = useState<RatingReason[]>(rating?.reasons ?? []);
  const [correction, setCorrection] = useState(rating?.correction ?? message.text);
  const correctionRef = useRef<HTMLTextAreaElement>(null);
  const id = useId();

  useEffect(() => setReasons(rating?.reasons ?? []), [rating?.at]);
  useEffect(() => {
    if (!correcting) return;
    setCorrection(rating?.correction ?? message.text);
    const area = correctionRef.current;
    if (area) {
      area.focus();
      area.select();
    }
  }, [correcting]);

  const showReasons = rating?.value === 'down' || rating?.value === 'corrected' || correcting;

  const toggleReason = (reason: RatingReason) => {
    const next = reasons.includes(reason) ? reasons.filter((r) => r !== reason) : [...reasons, reason];
    setReasons(next);
    // A reason given after a rating updates it; while correcting, they go with the correction.
    if (!correcting && rating && rating.value !== 'up') {
      void rate({
        value: rating.value,
        reasons: next,
        ...(rating.value === 'corrected' && rating.correction ? { correction: rating.correction } : {}),
      });
    }
  };

  const saveCorrection = async (event: Event) => {
    event.preventDefault();
    const text = correction.trim();
    if (!text) return;
    if (await rate({ value: 'corrected', reasons, correction: text })) onCorrectingChange(false);
  };

  return (
    <div class="rating" data-rating={rating?.value ?? 'none'}>
      <div class="rating-row">
        <fieldset class="rating-buttons">
          <legend class="visually-hidden">Rate this reply</legend>
          <button
            type="button"
            class="rate rate-up"
            aria-pressed={rating?.value === 'up'}
            disabled={busy}
            onClick={() => void rate({ value: 'up' })}
          >
            <ThumbUp /> Good
          </button>
          <button
            type="button"
            class="rate rate-down"
            aria-pressed={rating?.value === 'down'}
            disabled={busy}
            onClick={() => void rate({ value: 'down', reasons })}
          >
            <ThumbDown /> Bad
          </button>
          <button
            type="button"
            class="rate rate-correct"
            aria-pressed={rating?.value === 'corrected'}
            aria-expanded={correcting}
            aria-controls={`${id}-correction`}
            disabled={busy}
            onClick={() => onCorrectingChange(!correcting)}
          >
            <Pencil /> Correct
          </button>
        </fieldset>
        <p class="rating-state" aria-live="polite">
          {busy
            ? 'Saving…'
            : rating
              ? `Rated ${VALUE_LABELS[rating.value]} by ${rating.by.name}, ${relativeTime(rating.at)}`
              : 'Not rated'}
        </p>
      </div>
      {showReasons && (
        <fieldset class="reasons">
          <legend>Reasons (optional)</legend>
          {RATING_REASONS.map((reason) => (
            <button
              key={reason}
              type="button"
              class="tag"
              aria-pressed={reasons.includes(reason)}
              disabled={busy}
              onClick={() => toggleReason(reason)}
            >
              {REASON_LABELS[reason]}
            </button>
          ))}
        </fieldset>
      )}
      {rating?.value === 'corrected' && rating.correction && !correcting && (
        <div class="correction-shown">
          <h4>Corrected reply</h4>
          <p class="text">{rating.correction}</p>
        </div>
      )}
      {correcting && (
        <form class="correction" id={`${id}-correction`} onSubmit={saveCorrection}>
          <label for={`${id}-text`}>Corrected reply</label>
          <textarea
            id={`${id}-text`}
            ref={correctionRef}
            rows={4}
            value={correction}
            onInput={(event) => setCorrection(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') {
                event.preventDefault();
                onCorrectingChange(false);
              }
            }}
          />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy || !correction.trim()}>
              Save correction
            </button>
            <button type="button" onClick={() => onCorrectingChange(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
