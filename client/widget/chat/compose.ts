/** Rules for the message box: what counts toward the limit, and the text shown when a send fails. */
import type { WidgetErrorId, WidgetTexts } from '../../../server/realtime/widget/protocol.js';

/** Characters as the server counts them: code points of the trimmed text (an emoji is one). */
export function messageLength(text: string): number {
  return [...text.trim()].length;
}

export function canSend(text: string, maxChars: number): boolean {
  const length = messageLength(text);
  return length > 0 && length <= maxChars;
}

/** The visitor's language for the errors it has texts for, else the server's readable message. */
export function sendErrorText(error: WidgetErrorId, serverMessage: string, texts: WidgetTexts): string {
  if (error === 'message_too_long') return texts.messageTooLong;
  if (error === 'rate_limited') return texts.rateLimited;
  return serverMessage;
}
