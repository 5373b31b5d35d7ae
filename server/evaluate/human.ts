/**
 * The human signal on a version: how agents rated the replies it wrote in live chats. A rating is
 * on a bot message (`rating.value` up, down or corrected, see server/datasets/turns.ts for what
 * each does to training data); the message's `modelVersion` names the version that wrote it.
 * Rates are over the rated replies (n); with none, every rate is 0 and n is 0.
 */
import type { Models } from '../db/models/index.js';

export interface HumanSignal {
  /** Rated replies: the denominator of the rates. */
  n: number;
  /** Every live reply the version wrote, rated or not. */
  replies: number;
  up: number;
  down: number;
  corrected: number;
  upRate: number;
  downRate: number;
  correctedRate: number;
}

export const noHumanSignal = (): HumanSignal => ({
  n: 0,
  replies: 0,
  up: 0,
  down: 0,
  corrected: 0,
  upRate: 0,
  downRate: 0,
  correctedRate: 0,
});

export async function humanSignal(
  models: Pick<Models, 'Conversation'>,
  versionLabel: string | null,
): Promise<HumanSignal> {
  const signal = noHumanSignal();
  if (!versionLabel) return signal;
  for await (const conversation of models.Conversation.find(
    { 'messages.modelVersion': versionLabel },
    { messages: 1 },
  )
    .lean()
    .cursor()) {
    for (const message of conversation.messages) {
      if (message.role !== 'bot' || message.modelVersion !== versionLabel) continue;
      signal.replies += 1;
      const value = message.rating?.value;
      if (value === 'up' || value === 'down' || value === 'corrected') {
        signal[value] += 1;
        signal.n += 1;
      }
    }
  }
  if (signal.n > 0) {
    signal.upRate = signal.up / signal.n;
    signal.downRate = signal.down / signal.n;
    signal.correctedRate = signal.corrected / signal.n;
  }
  return signal;
}
