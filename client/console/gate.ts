/**
 * The promotion gate's refusal: POST /api/versions/:id/promote answers 409 `gate_failed` with a
 * message that lists the reasons ("Promotion blocked by the gate: a; b. Promote with an override
 * and a reason to go ahead."). The console shows the reasons one by one.
 */
import { ApiError } from './api.js';

const PREFIX = /^Promotion blocked by the gate:\s*/;
const SUFFIX = /\.?\s*Promote with an override[\s\S]*$/;

/** The gate's reasons when `error` is its refusal; null for any other error. */
export function gateFailures(error: unknown): string[] | null {
  if (!(error instanceof ApiError) || error.status !== 409 || error.error !== 'gate_failed') return null;
  const body = error.message.replace(PREFIX, '').replace(SUFFIX, '').trim();
  const reasons = body
    .split(/;\s+/)
    .map((reason) => reason.trim())
    .filter(Boolean);
  return reasons.length > 0 ? reasons : [error.message];
}

/** The server asks for at least 3 characters (after trimming) and at most 500. */
export const OVERRIDE_MIN = 3;
export const OVERRIDE_MAX = 500;

export function overrideReasonError(reason: string): string | null {
  const trimmed = reason.trim();
  if (trimmed.length < OVERRIDE_MIN) return 'Say why the gate is overridden (a few words at least).';
  if (trimmed.length > OVERRIDE_MAX) return `Keep the reason under ${OVERRIDE_MAX} characters.`;
  return null;
}
