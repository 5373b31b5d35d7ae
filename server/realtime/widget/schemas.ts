/** zod schemas for everything a widget sends; nothing from a socket is used before it parses. */
import { z } from 'zod';
import { describeIssues } from '../../zod-issues.js';

export const widgetAuthSchema = z.object({
  siteKey: z.string().min(1).max(100),
  token: z.string().max(200).nullish(),
  locales: z.array(z.string().max(35)).max(20).optional(),
});

export const sendMessageSchema = z.strictObject({
  clientMessageId: z
    .string()
    .min(8)
    .max(64)
    .regex(/^[\w-]+$/, { error: 'expected letters, digits, "-" or "_"' }),
  text: z.string(),
});

export const handoffRequestSchema = z.strictObject({});

export const leaveContactSchema = z.strictObject({
  email: z.email({ error: 'expected an email address' }).max(254),
});

export const identifySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(120).optional(),
    email: z.email({ error: 'expected an email address' }).max(254).optional(),
  })
  .refine((value) => value.name !== undefined || value.email !== undefined, {
    error: 'give a name, an email or both',
  });

export const describePayloadIssues = (error: z.ZodError) => describeIssues(error, 'payload');
