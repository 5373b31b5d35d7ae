/**
 * The chat widget in real Chromium, embedded with its one script tag on a page from a second
 * origin, against Parley serving the shipped starter model.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningParley, startParley } from '../../server/index.js';
import { createSite, embedSnippet, type StoredSite } from '../../server/sites/index.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { waitForModel } from '../support/serving.js';
import { launchChromium } from './support/chromium.js';
import { type HostSite, startHostSite } from './support/host-site.js';
import { focusedInWidget, openShadowRootsForTests, recordStreaming, widget } from './support/widget-page.js';

const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts', 'widget');
const UI_TIMEOUT = 20_000;

describe('the chat widget in Chromium', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;
  let host: HostSite;
  let browser: Browser;
  let site: StoredSite;
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
          // Low enough for one test to meet the limit; the others send one message each.
          PARLEY_WIDGET_MESSAGES_PER_MINUTE: '3',
        }),
      ),
    ]);
    site = await createSite(running.db.models, {
      name: 'harbor',
      origins: [host.origin],
      theme: { primaryColor: '#0b6e4f', launcherIcon: 'headset' },
    });
    const elsewhere = await createSite(running.db.models, {
      name: 'elsewhere',
      origins: ['https://elsewhere.example'],
    });
    host.setSnippets({
      demo: embedSnippet(running.url, site.publicKey),
      hostile: embedSnippet(running.url, site.publicKey),
      refused: embedSnippet(running.url, elsewhere.publicKey),
    });
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

  const visit = async (
    pagePath = '/',
    options: { viewport?: { width: number; height: number } } = {},
  ): Promise<Page> => {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } });
    contexts.push(context);
    await openShadowRootsForTests(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    await page.goto(`${host.origin}${pagePath}`);
    return page;
  };

  it('draws the launcher as a labelled button in a closed shadow root', async () => {
    const page = await visit();
    const ui = widget(page);
    expect(
      await page.evaluate(() => (window as unknown as { __shadowModes: string[] }).__shadowModes),
    ).toEqual(['closed']);
    expect(await ui.launcher.evaluate((button) => button.tagName)).toBe('BUTTON');
    expect(await ui.launcher.getAttribute('aria-label')).toBe('Open chat');
    expect(await ui.launcher.getAttribute('aria-expanded')).toBe('false');
    expect(await page.evaluate(() => typeof window.Parley?.open)).toBe('function');
    // A first visit: the site's colour before any chat (from /widget/look), not the default blue.
    await expect
      .poll(() => ui.launcher.evaluate((button) => getComputedStyle(button).backgroundColor))
      .toBe('rgb(11, 110, 79)');
    expect(await ui.launcher.isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'desktop-closed.png') });
  }, 30_000);

  it('streams the bot reply to a typed message, shows it as text, and finds the conversation again after a reload', async () => {
    const page = await visit();
    const ui = widget(page);
    expect(
      await page.evaluate(() => (window as unknown as { __shadowModes: string[] }).__shadowModes),
    ).toEqual(['closed']);
    await expect.poll(() => ui.launcher.getAttribute('aria-expanded')).toBe('false');
    await ui.launcher.click();
    await ui.input.waitFor();
    await expect.poll(() => ui.panel.getAttribute('data-state')).toBe('ready');
    const streaming = await recordStreaming(page);

    const typed = 'Hi <b>there</b>, I would like to check my account balance';
    await ui.input.fill(typed);
    await ui.input.press('Enter');
    await expect.poll(() => ui.messages.count(), { timeout: 45_000 }).toBe(2);
    const [mine, reply] = await ui.messages.allTextContents();
    expect(mine).toContain(typed);
    expect(
      await page.evaluate(() => document.querySelector('parley-widget')!.shadowRoot!.querySelector('b')),
    ).toBeNull();

    const streamed = await streaming();
    expect(streamed.typing).toBe(true);
    expect(streamed.texts.length).toBeGreaterThan(1);
    for (const [i, text] of streamed.texts.entries()) expect(streamed.texts[i + 1] ?? text).toContain(text);
    expect(reply).toContain(streamed.texts.at(-1)!.trim());
    expect(await ui.input.inputValue()).toBe('');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'desktop-open.png') });

    await page.reload();
    // Left open: it opens by itself, without taking the focus from the page.
    await expect.poll(() => ui.messages.allTextContents()).toEqual([mine, reply]);
    expect(await focusedInWidget(page)).toBeNull();
  }, 60_000);

  it('after "agent" with no one online, says so and takes an email to answer at', async () => {
    const page = await visit();
    const ui = widget(page);
    await ui.launcher.click();
    await expect.poll(() => ui.panel.getAttribute('data-state')).toBe('ready');
    await ui.input.fill('agent');
    await ui.input.press('Enter');
    await expect.poll(() => ui.handoff.textContent()).toContain('No one from our team is online right now.');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'desktop-offline.png') });

    const email = ui.handoff.getByLabel('Your email');
    await email.fill('ada@example');
    await ui.handoff.getByRole('button', { name: 'Send email' }).click();
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await email.evaluate((input: HTMLInputElement) => input.validity.valid)).toBe(false);

    await email.fill('ada@example.com');
    await ui.handoff.getByRole('button', { name: 'Send email' }).click();
    await expect.poll(() => ui.handoff.textContent()).toContain('Thanks! We will write to you soon.');
    const contacts = await running.db.models.VisitorContact.find({ kind: 'leave-email' }).lean();
    expect(contacts.map((contact) => contact.email)).toEqual(['ada@example.com']);
  }, 30_000);

  it('hands over to a person from the "Talk to a person" button, and no longer offers it', async () => {
    const page = await visit();
    const ui = widget(page);
    await ui.launcher.click();
    await expect.poll(() => ui.panel.getAttribute('data-state')).toBe('ready');
    await ui.handoff.getByRole('button', { name: 'Talk to a person' }).click();
    await expect.poll(() => ui.handoff.textContent()).toContain('No one from our team is online right now.');
    expect(await ui.handoff.getByRole('button', { name: 'Talk to a person' }).count()).toBe(0);
    const waiting = await running.db.models.Conversation.find({
      status: 'waiting',
      'meta.handoffReason': 'requested',
    })
      .lean()
      .then((conversations) => conversations.filter((c) => c.messages.length === 0));
    expect(waiting).toHaveLength(1);
  }, 30_000);

  it('on a page whose origin the site does not allow, shows that chat is unavailable and why', async () => {
    const page = await visit('/refused');
    const ui = widget(page);
    await ui.launcher.click();
    await expect
      .poll(() => ui.status.textContent())
      .toBe(`Chat is unavailable. Chat is not enabled for ${host.origin}.`);
    expect(await ui.status.getAttribute('data-kind')).toBe('error');
    expect(await ui.input.isDisabled()).toBe(true);
    expect(await ui.panel.isVisible()).toBe(true);
    expect(await ui.log.locator('.msg').first().isHidden()).toBe(true); // no greeting inviting questions
    await page.screenshot({ path: path.join(SCREENSHOTS, 'desktop-refused.png') });
  }, 30_000);

  it("refuses an over-long or rate-limited message with a readable reason and keeps the visitor's words", async () => {
    const page = await visit();
    const ui = widget(page);
    await ui.launcher.click();
    await expect.poll(() => ui.panel.getAttribute('data-state')).toBe('ready');
    const counter = ui.panel.locator('.counter');
    const error = ui.panel.getByRole('alert');

    const tooLong = 'x'.repeat(2001);
    await ui.input.fill(tooLong);
    expect(await counter.textContent()).toBe('2001 / 2000');
    expect(await counter.getAttribute('data-over')).toBe('');
    await ui.input.press('Enter');
    expect(await error.textContent()).toBe('That message is too long.');
    expect(await ui.input.inputValue()).toBe(tooLong);
    expect(await ui.messages.count()).toBe(0);

    // "agent" first, so no bot replies are written; then the visitor's third message per minute is the last.
    for (const text of ['agent', 'second', 'third', 'one too many']) {
      await ui.input.fill(text);
      await ui.input.press('Enter');
    }
    await expect
      .poll(() => error.textContent())
      .toBe('You are sending messages too quickly. Please wait a moment.');
    expect(await ui.input.inputValue()).toBe('one too many');
    expect(await ui.messages.allTextContents()).toEqual(['Youagent', 'Yousecond', 'Youthird']);
  }, 30_000);

  it('keeps a message typed while the connection is down and sends it once it is back, stored once', async () => {
    const page = await visit();
    const ui = widget(page);
    await ui.launcher.click();
    await expect
      .poll(() => page.evaluate(() => Object.keys(localStorage).some((key) => key.endsWith(':token'))))
      .toBe(true);

    // Offline first, so the widget cannot reconnect at once after the server drops it.
    await page.context().setOffline(true);
    running.io.of('/widget').disconnectSockets();
    await expect.poll(() => ui.status.textContent()).toBe('Connection lost. Reconnecting…');
    await ui.input.fill('Are you still there?');
    await ui.input.press('Enter');
    expect(await ui.log.locator('.msg[data-state="pending"]').textContent()).toContain(
      'Are you still there?',
    );

    await page.context().setOffline(false);
    await expect
      .poll(() => ui.log.locator('.msg[data-state="pending"]').count(), { timeout: 15_000 })
      .toBe(0);
    await expect.poll(() => ui.messages.count(), { timeout: 30_000 }).toBe(2);
    const stored = (
      await running.db.models.Conversation.find({ 'messages.text': 'Are you still there?' }).lean()
    )
      .flatMap((conversation) => conversation.messages)
      .filter((message) => message.text === 'Are you still there?');
    expect(stored).toHaveLength(1);
  }, 60_000);

  it('answers the page through window.Parley: identify before the chat loads, open, on("message"), close', async () => {
    const page = await visit();
    const ui = widget(page);
    await page.evaluate(() => {
      const heard: string[] = [];
      Object.defineProperty(window, '__heard', { value: heard });
      window.Parley!.identify({ name: 'Ada Lovelace', email: 'ada@example.com' });
      window.Parley!.on('message', (message) => heard.push(`${message.role}:${message.text}`));
      window.Parley!.open();
    });
    await expect.poll(() => ui.panel.isVisible()).toBe(true);
    await expect
      .poll(async () => (await running.db.models.VisitorContact.findOne({ kind: 'identify' }).lean())?.name)
      .toBe('Ada Lovelace');
    await ui.input.fill('agent');
    await ui.input.press('Enter');
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { __heard: string[] }).__heard))
      .toEqual(['customer:agent']);
    await page.evaluate(() => window.Parley!.close());
    await expect.poll(() => ui.panel.isHidden()).toBe(true);
    expect(await ui.launcher.getAttribute('aria-expanded')).toBe('false');
  }, 30_000);

  it('works from the keyboard: Enter opens, Tab stays in the panel, Escape closes and returns to the launcher', async () => {
    const page = await visit();
    const ui = widget(page);
    await ui.launcher.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => ui.launcher.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(() => focusedInWidget(page)).toEqual({ inPanel: true, className: '' });
    expect(await ui.panel.getAttribute('role')).toBe('dialog');
    expect(await ui.panel.getAttribute('aria-label')).toBe('Chat with us');

    const visited = new Set<string>();
    for (const key of ['Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
      await page.keyboard.press(key);
      const focused = await focusedInWidget(page);
      expect(focused?.inPanel, `focus after ${key}`).toBe(true);
      visited.add(focused!.className);
    }
    expect([...visited].sort()).toEqual(['', 'ask-person', 'close', 'log', 'send']);

    await page.keyboard.press('Escape');
    await expect.poll(() => ui.panel.isHidden()).toBe(true);
    expect(await ui.launcher.getAttribute('aria-expanded')).toBe('false');
    expect(await focusedInWidget(page)).toEqual({ inPanel: false, className: 'launcher' });
  }, 30_000);

  it('keeps the page CSS out of the widget', async () => {
    const page = await visit('/hostile');
    const ui = widget(page);
    await ui.launcher.click();
    await ui.input.waitFor();
    const styles = () =>
      page.evaluate(() => {
        const root = document.querySelector('parley-widget')!.shadowRoot!;
        const launcher = getComputedStyle(root.querySelector('.launcher')!);
        const title = getComputedStyle(root.querySelector('.title')!);
        return {
          launcherBorder: launcher.borderTopWidth,
          launcherBackground: launcher.backgroundColor,
          titleColor: title.color,
          titleFont: title.fontFamily,
          titleSize: title.fontSize,
        };
      });
    // The site's colour arrives with the session.
    await expect.poll(styles).toEqual({
      launcherBorder: '0px',
      launcherBackground: 'rgb(11, 110, 79)',
      titleColor: 'rgb(255, 255, 255)',
      titleFont: expect.not.stringContaining('Comic Sans'),
      titleSize: '17px',
    });
  }, 30_000);

  it('fills a small screen with the open panel', async () => {
    const page = await visit('/', { viewport: { width: 375, height: 667 } });
    const ui = widget(page);
    await ui.launcher.click();
    await ui.input.waitFor();
    await expect.poll(() => ui.panel.boundingBox()).toEqual({ x: 0, y: 0, width: 375, height: 667 });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'mobile-open.png') });
  }, 30_000);
});
