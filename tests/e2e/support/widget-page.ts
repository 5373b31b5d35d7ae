/** Playwright helpers for a page that embeds the widget. */
import type { BrowserContext, Page } from 'playwright-core';

/**
 * The widget draws itself in a closed shadow root, which locators cannot enter. Test pages record
 * the mode the widget asked for (so tests can check it was closed) and get an open root instead.
 */
export async function openShadowRootsForTests(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const attach = Element.prototype.attachShadow;
    const requested: string[] = [];
    Object.defineProperty(window, '__shadowModes', { value: requested });
    Element.prototype.attachShadow = function (init: ShadowRootInit) {
      requested.push(init.mode);
      return attach.call(this, { ...init, mode: 'open' });
    };
  });
}

export function widget(page: Page) {
  const panel = page.locator('parley-widget .panel');
  return {
    launcher: page.locator('parley-widget .launcher'),
    panel,
    input: panel.locator('textarea'),
    log: panel.locator('.log'),
    status: panel.locator('.status'),
    handoff: panel.locator('.handoff'),
    /** Stored messages in the log (not the greeting, not replies being streamed). */
    messages: panel.locator('.log .msg[data-role]:not([aria-hidden]):not(:first-child)'),
  };
}

/** The element focused inside the widget's shadow root, described for assertions. */
export function focusedInWidget(page: Page): Promise<{ inPanel: boolean; className: string } | null> {
  return page.evaluate(() => {
    const root = document.querySelector('parley-widget')?.shadowRoot;
    const active = root?.activeElement as HTMLElement | null | undefined;
    if (!root || !active) return null;
    return { inPanel: !!root.querySelector('.panel')?.contains(active), className: active.className };
  });
}

/**
 * Records how the bot's reply is drawn while it streams: whether the typing indicator showed, and
 * each text the streaming bubble held.
 */
export async function recordStreaming(
  page: Page,
): Promise<() => Promise<{ typing: boolean; texts: string[] }>> {
  await page.evaluate(() => {
    const log = document.querySelector('parley-widget')!.shadowRoot!.querySelector('.log')!;
    const seen = { typing: false, texts: [] as string[] };
    Object.defineProperty(window, '__streaming', { value: seen, configurable: true });
    new MutationObserver(() => {
      for (const draft of log.querySelectorAll('.msg[aria-hidden="true"]')) {
        if (draft.querySelector('.dots')) seen.typing = true;
        const text = draft.querySelector('p')?.textContent;
        if (text && seen.texts.at(-1) !== text) seen.texts.push(text);
      }
    }).observe(log, { subtree: true, childList: true, characterData: true });
  });
  return () =>
    page.evaluate(
      () => (window as unknown as { __streaming: { typing: boolean; texts: string[] } }).__streaming,
    );
}
