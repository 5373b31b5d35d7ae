/**
 * A live conversation as the model's prompt: the deployment's system prompt, then the
 * conversation's turns the way training renders them (customer turns as `user`, agent and bot
 * turns as `assistant`, consecutive turns of one role merged), through the model's own chat
 * template with an assistant turn opened. The oldest turns are dropped until the prompt leaves
 * room for the reply.
 */
import type { ChatMessage, ChatTokenizer } from '../ml/tokenizer.js';
import type { ChatTurn } from './types.js';

export function conversationMessages(turns: ChatTurn[], systemPrompt: string | null): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const turn of turns) {
    const text = turn.text.trim();
    if (text === '') continue;
    const role = turn.role === 'customer' ? 'user' : 'assistant';
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content = `${last.content}\n${text}`;
    else messages.push({ role, content: text });
  }
  return systemPrompt ? [{ role: 'system', content: systemPrompt }, ...messages] : messages;
}

export interface FittedPrompt {
  ids: number[];
  /** Conversation turns (after merging) left out because they did not fit. */
  droppedTurns: number;
}

/**
 * Token ids of the conversation with an assistant turn opened, at most `budget` long. Drops the
 * oldest turns first, restarting at a customer turn (some templates require the first turn after
 * the system prompt to be the user's); when even the last customer turn does not fit, its newest
 * tokens are kept.
 */
export function fitPrompt(
  tokenizer: ChatTokenizer,
  turns: ChatTurn[],
  systemPrompt: string | null,
  budget: number,
): FittedPrompt {
  const all = conversationMessages(turns, systemPrompt);
  const system = all[0]?.role === 'system' ? [all[0]] : [];
  const chat = all.slice(system.length);
  if (chat.length === 0) throw new RangeError('the conversation has no text to reply to');
  const render = (from: number) =>
    tokenizer.encodeChat([...system, ...chat.slice(from)], { addGenerationPrompt: true });

  let lastTried: number[] | null = null;
  let lastFrom = 0;
  for (let from = 0; from < chat.length; from++) {
    if (from > 0 && chat[from]!.role !== 'user') continue;
    let ids: number[];
    try {
      ids = render(from);
    } catch (error) {
      // A template that rejects this start (e.g. an assistant greeting first): try the next user turn.
      if (from === chat.length - 1) throw error;
      continue;
    }
    lastTried = ids;
    lastFrom = from;
    if (ids.length <= budget) return { ids, droppedTurns: from };
  }
  if (!lastTried) lastTried = render(chat.length - 1);
  return { ids: lastTried.slice(lastTried.length - budget), droppedTurns: lastFrom };
}

/**
 * Ids that end an assistant turn in this tokenizer's chat template: the special tokens the template
 * writes right after a reply's text (ChatML's <|im_end|>, Llama 3's <|eot_id|>, the default
 * template's eos), then those it opens a turn with (ChatML's <|im_start|>): a model that starts
 * the next turn instead of closing its own has finished its reply all the same. Generation stops
 * on any of them.
 */
export function endOfTurnIds(tokenizer: ChatTokenizer): number[] {
  const context: ChatMessage[] = [{ role: 'user', content: 'hello' }];
  let rendered: number[];
  let opened: number[];
  let full: number[];
  try {
    rendered = tokenizer.encodeChat(context);
    opened = tokenizer.encodeChat(context, { addGenerationPrompt: true });
    full = tokenizer.encodeChat([...context, { role: 'assistant', content: 'ok' }]);
  } catch {
    return [];
  }
  const isSpecial = (id: number) =>
    tokenizer.decode([id], { skipSpecialTokens: true }) === '' && tokenizer.decode([id]) !== '';
  const closing = full.slice(opened.length).find(isSpecial);
  const opening = opened.slice(rendered.length).filter(isSpecial);
  return [...new Set([...(closing === undefined ? [] : [closing]), ...opening])];
}
