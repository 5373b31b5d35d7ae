/** Playwright helpers for the agent console (/console). */
import type { Page } from 'playwright-core';

export function consolePage(page: Page) {
  const conversation = page.locator('section.conversation');
  return {
    email: page.getByLabel('Email'),
    password: page.getByLabel('Password'),
    signIn: page.getByRole('button', { name: 'Sign in' }),
    loginError: page.locator('#login-error'),
    nav: page.getByRole('navigation', { name: 'Console' }),
    /** The nav's count of conversations waiting for a person. */
    waitingBadge: page.locator('.sidenav .count-badge'),
    rows: page.locator('.conversation-list > li'),
    conversation,
    messages: conversation.locator('.log .msg[data-message-id]'),
    botReplies: conversation.locator('.log .msg[data-role="bot"][data-message-id]'),
    mode: conversation.locator('.conv-meta .badge'),
    reply: page.getByLabel('Reply to the visitor'),
  };
}

/**
 * Script errors and console errors the page logged (CSP violations show up here), but not failed
 * HTTP requests: a refused sign-in answers 401 on purpose, and tests check answers themselves.
 */
export function recordConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource:')) {
      errors.push(message.text());
    }
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}
