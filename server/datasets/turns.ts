/**
 * A stored conversation as the chat a model trains on, with the rule that lets agents' ratings
 * feed the data:
 * - a human agent's reply is a training target;
 * - a bot reply rated up is a target; one an agent corrected trains on the correction;
 * - a bot reply rated down, or not rated, stays in the chat as context but is never a target;
 * - customer turns and the system prompt are context only.
 */
import type { ChatRole } from '../ml/tokenizer.js';

export interface StoredMessage {
  role: 'customer' | 'agent' | 'bot';
  text: string;
  rating?: { value: 'up' | 'down' | 'corrected'; correction?: string | null } | null;
}

export interface TrainingTurn {
  role: ChatRole;
  content: string;
  /** Whether the loss counts this turn's tokens. */
  train: boolean;
}

function turnOf(message: StoredMessage): TrainingTurn {
  if (message.role === 'customer') return { role: 'user', content: message.text, train: false };
  if (message.role === 'agent') return { role: 'assistant', content: message.text, train: true };
  const rating = message.rating?.value;
  if (rating === 'corrected' && message.rating?.correction) {
    return { role: 'assistant', content: message.rating.correction, train: true };
  }
  return { role: 'assistant', content: message.text, train: rating === 'up' };
}

/** Consecutive turns of one role and one training flag merge into one (templates expect turns). */
export function trainingTurns(messages: StoredMessage[], systemPrompt: string | null): TrainingTurn[] {
  const turns: TrainingTurn[] = systemPrompt ? [{ role: 'system', content: systemPrompt, train: false }] : [];
  for (const message of messages) {
    const turn = turnOf(message);
    const last = turns[turns.length - 1];
    if (last && last.role === turn.role && last.train === turn.train && last.role !== 'system') {
      last.content = `${last.content}\n${turn.content}`;
    } else {
      turns.push(turn);
    }
  }
  return turns;
}

/** Replies an agent (not the bot) wrote, or the bot wrote and an agent approved or corrected. */
export const trainableTurnCount = (turns: TrainingTurn[]) => turns.filter((t) => t.train).length;
