/**
 * The demo company site: a second origin whose page embeds the widget with the one script tag,
 * and a demo site that allows exactly the origins the page was served from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SITE_NAME, ensureDemoSite } from '../../seed/demo-site.js';
import { type DemoPage, startDemoPage } from '../../server/demo-page.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { findSiteByName } from '../../server/sites/index.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { connectVisitor } from '../support/widget-client.js';

describe('the demo page', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;
  const pages: DemoPage[] = [];
  const startPage = async () => {
    const page = await startDemoPage({
      host: '127.0.0.1',
      port: 0,
      parleyUrl: running.url,
      siteKeyFor: async (origin) => (await ensureDemoSite(running.db.models, origin)).publicKey,
    });
    pages.push(page);
    return page;
  };

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    cleanup = dataDir.cleanup;
    running = await startParley(testEnv(dataDir.dir));
  });
  afterAll(async () => {
    for (const page of pages) await page.close();
    await running.close();
    await cleanup();
  });

  it('serves the company page from its own origin with the widget embedded by one script tag', async () => {
    const page = await startPage();
    expect(new URL(page.url).origin).not.toBe(new URL(running.url).origin);
    const html = await (await fetch(page.url)).text();
    const site = await findSiteByName(running.db.models, DEMO_SITE_NAME);
    expect(html).toContain(
      `<script src="${running.url}/widget.js" data-site-key="${site.publicKey}" async></script>`,
    );
    expect(html).not.toContain('<!-- parley:widget -->');
    expect(site.origins).toEqual([page.url]);
    expect((await fetch(`${page.url}/demo.css`)).status).toBe(200);
  });

  it("lets a visitor on the page's origin chat, and adds a new port's origin without changing the key", async () => {
    const first = await findSiteByName(running.db.models, DEMO_SITE_NAME);
    const page = await startPage();
    const site = await findSiteByName(running.db.models, DEMO_SITE_NAME);
    expect(site.publicKey).toBe(first.publicKey);
    expect(site.origins).toContain(page.url);
    const { socket, session } = await connectVisitor(running.url, {
      siteKey: site.publicKey,
      origin: page.url,
    });
    expect(session.site.texts.title).toBe('Harbor Street support');
    socket.close();
  });
});
