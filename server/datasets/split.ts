import { createHash } from 'node:crypto';

export type Split = 'train' | 'validation';

/** Deterministic by conversation, so one conversation is never in both splits. */
export function splitOf(conversationId: string, validationPercent: number): Split {
  const bucket = createHash('sha256').update(conversationId).digest().readUInt32BE(0) % 100;
  return bucket < validationPercent ? 'validation' : 'train';
}
