/**
 * A zod error in words for whoever sent the input. Bounded: a payload with thousands of unknown
 * keys (or a Buffer, whose methods zod lists as keys) must not turn into a message as long.
 */
import type { z } from 'zod';

const MAX_ISSUES = 5;
const MAX_CHARS = 400;

export function describeIssues(error: z.ZodError, root: string): string {
  const shown = error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) => `${issue.path.map(String).join('.') || root}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  const text = shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
}
