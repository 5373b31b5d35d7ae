import { describe, expect, it } from 'vitest';
import { canSend, messageLength, sendErrorText } from '../../../../client/widget/chat/compose.js';
import { DEFAULT_TEXTS } from '../../../../server/sites/default-texts.js';

const texts = DEFAULT_TEXTS.fr!;

describe('message box rules', () => {
  it('counts code points of the trimmed text, as the server does', () => {
    expect(messageLength('  hello  ')).toBe(5);
    expect(messageLength('👍🏽')).toBe(2);
    expect(messageLength('é')).toBe(1);
  });

  it.each([
    ['hi', 5, true],
    ['12345', 5, true],
    ['123456', 5, false],
    ['   ', 5, false],
    ['', 5, false],
  ])('canSend(%j, max %i) is %s', (text, max, expected) => {
    expect(canSend(text, max)).toBe(expected);
  });

  it("shows the visitor's language for the errors it has texts for, else the server's message", () => {
    expect(sendErrorText('message_too_long', 'Messages can be at most 10 characters long.', texts)).toBe(
      texts.messageTooLong,
    );
    expect(sendErrorText('rate_limited', 'Too many messages', texts)).toBe(texts.rateLimited);
    expect(sendErrorText('conversation_closed', 'This conversation was closed.', texts)).toBe(
      'This conversation was closed.',
    );
  });
});
