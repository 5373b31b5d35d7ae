import { describe, expect, it } from 'vitest';
import { EMAIL_PATTERN, isValidEmail, normalizeEmail } from '../../../../client/widget/chat/email.js';

describe('offline contact email', () => {
  it.each([
    ['ada@example.com', true],
    ['first.last+tag@mail.example.co.uk', true],
    ['ada@example', false],
    ['ada@', false],
    ['@example.com', false],
    ['ada example@example.com', false],
    ['ada@@example.com', false],
    ['ada@example..com', false],
    ['', false],
    [`${'a'.repeat(250)}@example.com`, false],
  ])('%s is valid: %s', (email, valid) => {
    expect(isValidEmail(email)).toBe(valid);
  });

  it('trims what the visitor typed', () => {
    expect(normalizeEmail('  ada@example.com \n')).toBe('ada@example.com');
  });

  it('has a pattern the browser accepts as an input pattern (compiled with the v flag)', () => {
    expect(() => new RegExp(`^(?:${EMAIL_PATTERN})$`, 'v')).not.toThrow();
  });
});
