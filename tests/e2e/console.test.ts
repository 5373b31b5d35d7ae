/**
 * The agent console in real Chromium, against Parley serving the shipped starter model, with a
 * visitor chatting from a widget on a second origin in another tab.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { createSite, embedSnippet } from '../../server/sites/index.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { waitForModel } from '../support/serving.js';
import { launchChromium } from './support/chromium.js';
import { consolePage, recordConsoleErrors } from './support/console-page.js';
import { type HostSite, startHostSite } from './support/host-site.js';
import { openShadowRootsForTests, widget } from './support/widget-page.js';

const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');
const UI_TIMEOUT = 20_000;
const AGENT = { email: 'ada@shop.example', name: 'Ada Lovelace', password: 'correct horse battery' };

describe('the agent console in Chromium', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;
  let host: HostSite;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    cleanup = dataDir.cleanup;
    [host, browser, running] = await Promise.all([
      startHostSite(),
      launchChromium(),
      startParley(
        testEnv(dataDir.dir, {
          PARLEY_BASE_MODEL: path.join(dataDir.dir, 'models', 'starter'),
          PARLEY_SERVING_WORKERS: '1',
          PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '100',
        }),
      ),
    ]);
    const site = await createSite(running.db.models, { name: 'harbor', origins: [host.origin] });
    const snippet = embedSnippet(running.url, site.publicKey);
    host.setSnippets({ demo: snippet, hostile: snippet, refused: snippet });
    await createUser(running.db.models, { ...AGENT, role: 'agent' });
    await mkdir(SCREENSHOTS, { recursive: true });
    await waitForModel(running);
  }, 60_000);

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await running?.widget.replies.idle();
    await running?.close();
    await host?.close();
    await cleanup?.();
  });

  const newPage = async (options: { shadowRoots?: boolean } = {}): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    if (options.shadowRoots) await openShadowRootsForTests(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    return page;
  };

  /** A visitor on the company's site who says something and waits for the bot's reply. */
  const visitorChat = async (text: string): Promise<Page> => {
    const page = await newPage({ shadowRoots: true });
    await page.goto(host.origin);
    const ui = widget(page);
    await ui.launcher.click();
    await expect.poll(() => ui.panel.getAttribute('data-state')).toBe('ready');
    await ui.input.fill(text);
    await ui.input.press('Enter');
    await expect.poll(() => ui.messages.count(), { timeout: 45_000 }).toBe(2);
    return page;
  };

  const signIn = async (page: Page) => {
    const ui = consolePage(page);
    await ui.email.fill(AGENT.email);
    await ui.password.fill(AGENT.password);
    await ui.signIn.click();
    await page.locator('.topbar').waitFor();
  };

  it('signs in after a wrong password, follows a live chat, takes over, replies to the widget, and corrects a bot reply', async () => {
    const page = await newPage();
    const errors = recordConsoleErrors(page);
    const ui = consolePage(page);
    await page.goto(`${running.url}/console`);
    await page.getByRole('heading', { name: 'Sign in to the Parley console' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/login');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('login-email');

    // A wrong password: the server's reason, the email kept.
    await ui.email.fill(AGENT.email);
    await ui.password.fill('not the password');
    await ui.signIn.click();
    await expect.poll(() => ui.loginError.textContent()).toBe('Wrong email or password.');
    expect(await ui.email.inputValue()).toBe(AGENT.email);
    expect(await ui.email.getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'login-error.png') });

    await ui.password.fill(AGENT.password);
    await ui.signIn.click();
    await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/inbox');
    await expect.poll(() => page.locator('.topbar').textContent()).toContain(AGENT.name);
    expect(await page.locator('.role-badge').textContent()).toBe('Agent');
    await expect.poll(() => page.locator('.live').textContent()).toMatch(/^Live/);
    expect(await ui.rows.count()).toBe(0);

    // A visitor starts chatting in another tab: the conversation shows up live.
    const visitor = await visitorChat('Hello, where is my parcel?');
    const visitorUi = widget(visitor);
    await expect.poll(() => ui.rows.count()).toBe(1);
    await expect.poll(() => ui.rows.first().getAttribute('data-mode')).toBe('bot');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'inbox.png') });

    // The visitor asks for a person: the row says so and the nav counts it.
    await visitorUi.handoff.getByRole('button', { name: 'Talk to a person' }).click();
    await expect.poll(() => ui.rows.first().getAttribute('data-mode')).toBe('waiting');
    await expect.poll(() => ui.waitingBadge.textContent()).toBe('1 waiting for a person');

    await ui.rows.first().getByRole('link').click();
    await ui.conversation.waitFor();
    await expect.poll(() => ui.messages.count()).toBe(2);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('conversation-title');
    const stored = await running.db.models.Conversation.findOne({}).lean();
    const botReply = stored!.messages.find((m) => m.role === 'bot')!;
    const botItem = ui.botReplies.first();
    expect(await botItem.locator('.text').textContent()).toBe(botReply.text);
    expect(await botItem.locator('.version').textContent()).toMatch(/^Model v\d+/);
    expect(await botItem.locator('.confidence').textContent()).toMatch(/^\d+% confident$/);
    expect(await ui.mode.textContent()).toBe('Waiting for a person');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'conversation-waiting.png') });

    // t takes over (the focus is on the heading, not in a field); the reply box opens.
    await page.keyboard.press('t');
    await expect.poll(() => ui.mode.textContent()).toBe('With an agent');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('reply-text');
    await expect.poll(() => ui.waitingBadge.count()).toBe(0);

    // Typed letters that are shortcuts elsewhere stay text here.
    const answer = 'Hi, this is Ada: your parcel left today, it should be there by Thursday.';
    await ui.reply.pressSequentially(answer);
    expect(await ui.reply.inputValue()).toBe(answer);
    await ui.reply.press('Enter');
    await expect.poll(() => ui.messages.count()).toBe(3);
    // The reply can come back over the socket a moment before the POST answers and clears the box.
    await expect.poll(() => ui.reply.inputValue()).toBe('');
    expect(await ui.messages.last().getAttribute('data-role')).toBe('agent');
    await expect
      .poll(() => visitorUi.messages.allTextContents())
      .toContainEqual(expect.stringContaining(answer));

    // Correct the bot's reply, with a reason.
    await botItem.getByRole('button', { name: 'Correct' }).click();
    const correction = botItem.getByLabel('Corrected reply');
    expect(await correction.inputValue()).toBe(botReply.text);
    await correction.fill('Your parcel left our warehouse today and arrives within two days.');
    await botItem.getByRole('button', { name: 'Wrong' }).click();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'conversation-correcting.png') });
    await botItem.getByRole('button', { name: 'Save correction' }).click();
    await expect
      .poll(() => botItem.locator('.rating-state').textContent())
      .toMatch(/^Rated corrected by Ada Lovelace/);
    const rated = await running.db.models.Conversation.findById(stored!._id).lean();
    expect(rated!.messages.find((m) => m.role === 'bot')!.rating).toMatchObject({
      value: 'corrected',
      correction: 'Your parcel left our warehouse today and arrives within two days.',
      reasons: ['wrong'],
      byName: AGENT.name,
    });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'conversation-human.png') });

    // Hand back: the bot answers again, and its reply streams into the open conversation.
    await page.getByRole('button', { name: 'Hand back to the bot' }).click();
    await expect.poll(() => ui.mode.textContent()).toBe('Bot');
    expect(await ui.reply.count()).toBe(0);
    await page.evaluate(() => {
      const seen: string[] = [];
      Object.defineProperty(window, '__drafts', { value: seen });
      new MutationObserver(() => {
        const text = document.querySelector('.log .msg.draft .text')?.textContent;
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document.querySelector('.log')!, { subtree: true, childList: true, characterData: true });
    });
    await visitorUi.input.fill('Thanks! Can I still return it?');
    await visitorUi.input.press('Enter');
    await expect.poll(() => ui.messages.count(), { timeout: 45_000 }).toBe(5);
    const drafts = await page.evaluate(() => (window as unknown as { __drafts: string[] }).__drafts);
    expect(drafts.length).toBeGreaterThan(1);
    const streamedReply = (await ui.botReplies.last().locator('.text').textContent())!;
    expect(streamedReply).toContain(drafts.at(-1)!.trim());
    expect(await page.locator('.log .msg.draft').count()).toBe(0);

    expect(errors).toEqual([]);
  }, 120_000);

  it("shows the server's reason when an account is locked after wrong passwords", async () => {
    const locked = { email: 'locked@shop.example', name: 'Lin', password: 'another long password' };
    await createUser(running.db.models, { ...locked, role: 'agent' });
    const page = await newPage();
    const ui = consolePage(page);
    await page.goto(`${running.url}/console/login`);
    await ui.email.fill(locked.email);
    let message = '';
    for (let attempt = 0; attempt < 8 && !message.includes('locked'); attempt++) {
      await ui.password.fill(`wrong ${attempt}`);
      await ui.signIn.click();
      await expect.poll(() => ui.loginError.textContent()).not.toBe('');
      message = (await ui.loginError.textContent())!;
      if (!message.includes('locked')) expect(message).toBe('Wrong email or password.');
    }
    expect(message).toMatch(
      /^This account is locked after too many wrong passwords; try again in \d+ minute/,
    );
    // Locked even with the right password, and still nothing typed is lost.
    await ui.password.fill(locked.password);
    await ui.signIn.click();
    await expect.poll(() => ui.loginError.textContent()).toMatch(/locked/);
    expect(await ui.email.inputValue()).toBe(locked.email);
    expect(await ui.password.inputValue()).toBe(locked.password);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'login-locked.png') });
  }, 60_000);

  it('rates the review queue with the keyboard and lists the shortcuts on "?"', async () => {
    await visitorChat('Can I change my delivery address?');
    const page = await newPage();
    const errors = recordConsoleErrors(page);
    await page.goto(`${running.url}/console/review`);
    await expect.poll(() => new URL(page.url()).pathname).toBe('/console/login');
    await signIn(page);
    await page.getByRole('heading', { name: 'Review queue', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/review');

    const cards = page.locator('.review-card');
    await expect.poll(() => cards.count()).toBeGreaterThan(0);
    const first = cards.first();
    const messageId = (await first.getAttribute('data-message-id'))!;
    expect(await first.locator('.context .msg[data-role="customer"]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'review.png') });

    await page.keyboard.press('j');
    await expect.poll(() => first.getAttribute('aria-current')).toBe('true');
    await page.keyboard.press('+');
    await expect.poll(() => first.locator('.rate-up').getAttribute('aria-pressed')).toBe('true');
    const conversation = await running.db.models.Conversation.findOne({ 'messages._id': messageId }).lean();
    expect(conversation!.messages.find((m) => String(m._id) === messageId)!.rating).toMatchObject({
      value: 'up',
      byName: AGENT.name,
    });
    await expect.poll(() => page.locator('.count').textContent()).toMatch(/^1 of \d+ rated$/);

    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    expect(await help.locator('tbody tr').count()).toBe(8);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'help.png') });
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });

    // Search and the mode filter narrow the list.
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: /^Inbox/ })
      .click();
    const list = consolePage(page);
    await expect.poll(() => list.rows.count()).toBe(2);
    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('DELIVERY address');
    await expect.poll(() => list.rows.count()).toBe(1);
    const delivery = await running.db.models.Conversation.findOne({
      'messages.text': 'Can I change my delivery address?',
    }).lean();
    expect(await list.rows.first().getAttribute('data-id')).toBe(String(delivery!._id));
    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('no conversation says this');
    await expect
      .poll(() => page.locator('.state-empty').first().textContent())
      .toBe('No conversations match “no conversation says this”.');
    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('');
    await expect.poll(() => list.rows.count()).toBe(2);
    await page.getByRole('button', { name: 'Closed', exact: true }).click();
    await expect.poll(() => list.rows.count()).toBe(0);
    await page.getByRole('button', { name: 'All', exact: true }).click();
    await expect.poll(() => list.rows.count()).toBe(2);

    // A phone: one column, the list first, then the conversation alone.
    await page.setViewportSize({ width: 390, height: 844 });
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: /^Inbox/ })
      .click();
    const ui = consolePage(page);
    await expect.poll(() => ui.rows.count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'inbox-narrow.png') });
    await ui.rows.first().getByRole('link').click();
    await expect.poll(() => ui.messages.count()).toBeGreaterThan(1);
    expect(await page.locator('.inbox-list').isVisible()).toBe(false);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'conversation-narrow.png') });
    await page.getByRole('link', { name: 'All conversations' }).click();
    await page.locator('.inbox-list').waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/inbox');

    expect(errors).toEqual([]);
  }, 90_000);
});
