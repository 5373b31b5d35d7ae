import type { z } from 'zod';
import { badRequest } from '../../errors.js';
import { describeIssues } from '../../zod-issues.js';

/** Parses a request part with a zod schema; a 400 names every problem. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(describeIssues(parsed.error, 'body'));
  return parsed.data;
}
