/**
 * The console's admin pages in real Chromium, against Parley with a tiny base model (v1, active)
 * and twelve widget chats answered by an agent and closed: an admin ingests them, builds a
 * dataset, trains on it and watches the run to its end, promotes the new version past the gate
 * with a reason (a visitor's next reply, in a widget on another site's page, comes from it), rolls
 * back (and the next reply comes from v1 again), reads the evaluation report, adds a source after
 * testing its connection, edits its field mapping, and visits every admin page. An agent sees
 * none of it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.js';
import { compareVersions } from '../../server/evaluate/compare.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { registerStarterVersion } from '../../server/registry/starter-version.js';
import { createSite, embedSnippet, type StoredSite } from '../../server/sites/index.js';
import { ApiClient } from '../support/api-client.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { tinyBaseModel } from '../support/pipeline.js';
import { clientMessageId, connectVisitor } from '../support/widget-client.js';
import { launchChromium } from './support/chromium.js';
import { consolePage, recordConsoleErrors } from './support/console-page.js';
import { type HostSite, startHostSite } from './support/host-site.js';
import { openShadowRootsForTests, widget } from './support/widget-page.js';

const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');
const UI_TIMEOUT = 20_000;
const SHOP = 'https://shop.example';
const ADMIN = { email: 'grace@shop.example', name: 'Grace Hopper', password: 'correct horse battery' };
const AGENT = { email: 'ada@shop.example', name: 'Ada Lovelace', password: 'correct horse battery' };

describe('the admin console in Chromium', () => {
  let running: RunningParley;
  let dataDir: { dir: string; cleanup: () => Promise<void> };
  let browser: Browser;
  let shop: StoredSite;
  /** A second site, on the host page's loopback origin: its visitor chats with whichever version is live. */
  let lobby: StoredSite;
  let host: HostSite;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    dataDir = await tempDataDir();
    const base = await tinyBaseModel(dataDir.dir);
    [browser, host, running] = await Promise.all([
      launchChromium(),
      startHostSite(),
      startParley(
        testEnv(dataDir.dir, {
          PARLEY_BASE_MODEL: base,
          PARLEY_SERVING_WORKERS: '1',
          PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '1000',
          PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: '1000',
          PARLEY_PRIVACY_BUDGET_EPSILON: '10',
          TFJS_BACKEND: 'cpu',
        }),
      ),
    ]);
    const { models } = running.db;
    // The tiny base is v1, active; it claims a validation loss no fine-tune can match, so the gate blocks.
    expect(await registerStarterVersion(models, base)).toBe('v1');
    await models.ModelVersion.updateOne({ version: 'v1' }, { $set: { 'metrics.validationLoss': 0.001 } });
    shop = await createSite(models, { name: 'shop', origins: [SHOP] });
    // Never hands over on low confidence, so every message gets a bot reply.
    lobby = await createSite(models, { name: 'lobby', origins: [host.origin], handoffThreshold: 0 });
    const snippet = embedSnippet(running.url, lobby.publicKey);
    host.setSnippets({ demo: snippet, hostile: snippet, refused: snippet });
    await createUser(models, { ...ADMIN, role: 'admin' });
    await createUser(models, { ...AGENT, role: 'agent' });

    // Twelve visitors, each answered by an agent, then closed: the widget source's training data.
    const agent = new ApiClient(running.url);
    expect((await agent.login(AGENT.email, AGENT.password)).status).toBe(200);
    for (let i = 0; i < 12; i++) {
      const visitor = await connectVisitor(running.url, { siteKey: shop.publicKey, origin: SHOP });
      await visitor.socket.emitWithAck('message:send', {
        clientMessageId: clientMessageId(),
        text: `hello, where is my order number ${i}`,
      });
      await running.widget.replies.idle();
      const id = visitor.session.conversationId;
      await agent.request('POST', `/conversations/${id}/messages`, {
        text: 'hi, your order ships tomorrow',
        clientMessageId: clientMessageId(),
      });
      expect((await agent.request('POST', `/conversations/${id}/close`, {})).status).toBe(200);
      visitor.socket.close();
    }
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await running?.widget.replies.idle();
    await running?.close();
    await host?.close();
    await dataDir?.cleanup();
  });

  const signedIn = async (who: typeof ADMIN, width = 1280): Promise<{ page: Page; errors: string[] }> => {
    const context = await browser.newContext({ viewport: { width, height: 860 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: running.url });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    const errors = recordConsoleErrors(page);
    const ui = consolePage(page);
    await page.goto(`${running.url}/console/login`);
    await ui.email.fill(who.email);
    await ui.password.fill(who.password);
    await ui.signIn.click();
    await page.locator('.topbar').waitFor();
    await expect.poll(() => page.locator('.live').textContent(), { timeout: UI_TIMEOUT }).toMatch(/^Live/);
    return { page, errors };
  };

  const go = async (page: Page, label: string) => {
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: label, exact: true })
      .click();
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: true });

  /** A visitor's tab on the lobby site's page, the chat open. */
  const visitorTab = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    await openShadowRootsForTests(context);
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    await page.goto(host.origin);
    const ui = widget(page);
    await ui.launcher.click();
    await expect.poll(() => ui.panel.getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('ready');
    return { page, ui };
  };

  /**
   * Sends a message from the visitor's tab, waits for the bot's reply to show there, and returns
   * the stored reply's model version. The tiny random model may end a reply before its first word;
   * nothing is stored or shown then, and the visitor asks again (three tries).
   */
  const replyVersion = async ({ ui }: Awaited<ReturnType<typeof visitorTab>>, text: string) => {
    const conversation = () => running.db.models.Conversation.findOne({ siteId: lobby._id }).lean();
    for (let attempt = 1; ; attempt++) {
      const shown = await ui.messages.count();
      const asked = (await conversation())?.messages.length ?? 0;
      await ui.input.fill(text);
      await ui.input.press('Enter');
      // Stored: the reply is queued by then; wait for it to finish.
      await expect.poll(async () => (await conversation())?.messages.length ?? 0).toBeGreaterThan(asked);
      await running.widget.replies.idle();
      const stored = (await conversation())!;
      expect(stored.messages[asked]).toMatchObject({ role: 'customer', text });
      const reply = stored.messages[asked + 1];
      if (!reply && attempt < 3) continue;
      expect(reply).toMatchObject({ role: 'bot' });
      await expect.poll(() => ui.messages.count(), { timeout: UI_TIMEOUT }).toBe(shown + 2);
      return { conversationId: stored._id.toHexString(), version: reply!.modelVersion };
    }
  };

  it('ingests, builds a dataset, trains with a live chart, promotes past the gate with a reason and rolls back', async () => {
    const { page, errors } = await signedIn(ADMIN);
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('heading', { name: 'Admin' }).count()).toBe(1);

    // Sources: run the widget source's ingestion and watch it finish.
    await go(page, 'Sources');
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor();
    const row = page.locator('tr[data-source="widget:shop"]');
    await row.getByRole('button', { name: 'Run ingestion of widget:shop' }).click();
    await expect
      .poll(() => row.locator('.ok').textContent(), { timeout: 60_000 })
      .toMatch(/^Ingested 12 conversations/);
    await expect.poll(() => row.locator('td.num').first().textContent()).toBe('12');
    await shot(page, 'admin-sources.png');

    // One source: its run with the PII report, nothing quarantined.
    await row.getByRole('link', { name: 'widget:shop' }).click();
    await page.getByRole('heading', { name: 'Source widget:shop', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/sources/widget%3Ashop');
    await expect.poll(() => page.locator('section[aria-labelledby="runs-title"] tbody tr').count()).toBe(1);
    await page.getByText('Nothing quarantined').waitFor();
    await shot(page, 'admin-source.png');

    // Datasets: a build from the widget source, a quarter held out for validation.
    await go(page, 'Datasets');
    await page.getByRole('heading', { name: 'Build a dataset' }).waitFor();
    // Nothing picked: the form says so and sends nothing.
    await page.getByRole('button', { name: 'Build dataset' }).click();
    await expect
      .poll(() => page.locator('#build-sources-error').textContent())
      .toBe('Pick at least one source.');
    await page.getByRole('checkbox', { name: /widget:shop/ }).check();
    await page.getByLabel('Validation %').fill('25');
    await page.getByRole('button', { name: 'Build dataset' }).click();
    await expect
      .poll(() => page.locator('.notice-line').textContent(), { timeout: 60_000 })
      .toMatch(/is ready\.$/);
    await expect.poll(() => page.locator('tr[data-dataset] .badge').first().textContent()).toBe('ready');
    await shot(page, 'admin-datasets.png');

    // Training: the form's defaults, one epoch at batch 4, then the run live to its end.
    await go(page, 'Training');
    await page.getByRole('heading', { name: 'Start a training run' }).waitFor();
    expect(await page.getByLabel('Epochs').inputValue()).toBe('3');
    expect(await page.getByLabel('Learning rate').inputValue()).toBe('0.0002');
    await page.getByLabel('Epochs').fill('0');
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect
      .poll(() => page.locator('#train-epochs-error').textContent())
      .toBe('Enter a number from 1 to 100.');
    expect(await page.getByLabel('Epochs').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Epochs').fill('1');
    await page.getByLabel('Batch size').fill('4');
    await shot(page, 'admin-training-form.png');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByRole('heading', { name: /^Training run/, level: 1 }).waitFor();
    const jobId = new URL(page.url()).pathname.split('/').at(-1)!;
    const heading = page.getByRole('heading', { level: 1 });
    await expect.poll(() => heading.locator('.badge').textContent(), { timeout: 90_000 }).toBe('succeeded');
    const job = await running.db.models.TrainingJob.findById(jobId).lean();
    const total = job!.progress!.totalSteps!;
    expect(total).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('.progress-text').textContent())
      .toMatch(new RegExp(`^${total} of ${total}`));
    expect(await page.locator('progress').getAttribute('value')).toBe(String(total));
    await expect.poll(() => page.locator('.loss-chart canvas').count()).toBe(1);
    await expect
      .poll(() => page.locator('.loss-chart figcaption').textContent())
      .toMatch(new RegExp(`^${total} steps`));
    expect(await page.locator('.event-log li').count()).toBeGreaterThan(0);
    await shot(page, 'admin-training-run.png');

    // A reload draws the chart again from the stored metrics.
    await page.reload();
    await expect
      .poll(() => page.locator('.loss-chart figcaption').textContent())
      .toMatch(new RegExp(`^${total} steps`));
    await expect.poll(() => page.locator('.loss-chart .u-legend').count()).toBe(1);

    // The new version: promote it; the gate blocks, an override with a reason goes through.
    const link = page.getByRole('link', { name: /to compare and promote it/ });
    // After the reload the run names its version once it has read the label.
    await expect.poll(() => link.textContent()).toBe('Open v2 to compare and promote it');
    await link.click();
    await page.getByRole('heading', { name: /^Version v2/, level: 1 }).waitFor();
    await page.getByText('No evaluation report yet').waitFor();
    await page.getByRole('button', { name: 'Promote', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'Promote v2?' }).waitFor();
    await dialog.getByRole('button', { name: 'Promote', exact: true }).click();
    await dialog.getByRole('heading', { name: 'The gate blocks v2' }).waitFor();
    expect(await dialog.locator('.gate-reasons li').first().textContent()).toMatch(
      /^validation loss .* is worse than/,
    );
    // No reason, no override.
    await dialog.getByRole('button', { name: 'Promote anyway' }).click();
    await expect.poll(() => dialog.locator('#override-error').textContent()).toMatch(/Say why/);
    await shot(page, 'admin-promote-gate.png');
    await dialog
      .getByLabel('Why promote it anyway?')
      .fill('The base model never measured this data; v2 was checked by hand.');
    await dialog.getByRole('button', { name: 'Promote anyway' }).click();
    // The live chat swaps to v2 before the answer comes.
    await expect
      .poll(() => page.locator('.notice-line').textContent(), { timeout: 60_000 })
      .toBe('v2 is live (was v1), past the gate.');
    expect(await dialog.isVisible()).toBe(false);
    await expect.poll(() => heading.locator('.badge').textContent()).toBe('Active');

    // A visitor on the lobby site's page asks: v2 answers.
    const visitor = await visitorTab();
    const promoted = await replyVersion(visitor, 'hello, where is my order?');
    expect(promoted.version).toBe('v2');
    await visitor.page.screenshot({ path: path.join(SCREENSHOTS, 'admin-widget-after-promote.png') });

    // The list shows v2 active; roll back returns to v1.
    await go(page, 'Versions');
    const activeRow = page.locator('.versions-table tr.is-active');
    await expect.poll(() => activeRow.getAttribute('data-version')).toBe('v2');
    await page.getByRole('button', { name: 'Roll back' }).click();
    await dialog.getByRole('heading', { name: 'Roll back?' }).waitFor();
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await expect
      .poll(() => page.locator('.notice-line').textContent(), { timeout: 60_000 })
      .toBe('Rolled back to v1 (from v2).');
    await expect.poll(() => activeRow.getAttribute('data-version')).toBe('v1');
    expect(await page.locator('tr[data-version="v2"] .badge').textContent()).toBe('retired');
    await shot(page, 'admin-versions.png');
    const actions = (await running.db.models.AuditEvent.find({}).lean()).map((event) => event.action);
    expect(actions).toEqual(expect.arrayContaining(['version.promote.override', 'version.rollback']));

    // The same visitor asks again: v1 answers once more.
    const rolledBack = await replyVersion(visitor, 'and when will it arrive?');
    expect(rolledBack.version).toBe('v1');
    // The console's view of that chat names the version of each reply.
    await page.goto(`${running.url}/console/inbox/${rolledBack.conversationId}`);
    const { botReplies } = consolePage(page);
    await expect
      .poll(() => botReplies.locator('.version').allTextContents(), { timeout: UI_TIMEOUT })
      .toEqual(['Model v2', 'Model v1']);
    await shot(page, 'admin-conversation-versions.png');
    await go(page, 'Versions');
    await page.locator('tr[data-version="v2"]').waitFor();

    // The evaluation report of v2 against v1: metrics with deltas, example replies side by side.
    const report = await compareVersions(running.db.models, 'v2', {
      rankingCases: 6,
      samples: 3,
      examples: 3,
      maxNewTokens: 8,
    });
    await page.locator('tr[data-version="v2"]').getByRole('link', { name: 'v2' }).click();
    await page.getByRole('heading', { name: 'Evaluation report' }).waitFor();
    await page.locator('.metrics-table tr[data-metric="validationLoss"]').waitFor();
    const lossRow = page.locator('.metrics-table tr[data-metric="validationLoss"]');
    expect(await lossRow.locator('td.delta').textContent()).toMatch(/^[+−±]/);
    expect(await page.locator('.metrics-table thead th').nth(2).textContent()).toBe('v1');
    expect(report.examples.length).toBeGreaterThan(0);
    expect(await page.locator('.examples > li').count()).toBe(report.examples.length);
    await shot(page, 'admin-version-report.png');

    expect(errors).toEqual([]);
  }, 300_000);

  it('tests a connection, adds a source with a shipped mapping, and edits its field mapping', async () => {
    const { page, errors } = await signedIn(ADMIN);
    const unreachable = 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300';

    await go(page, 'Sources');
    await page.getByRole('button', { name: 'Add a source' }).click();
    const form = page.locator('section[aria-labelledby="add-source-title"]');
    await form.getByRole('heading', { name: 'Add a source' }).waitFor();
    const uri = form.getByLabel('Connection string');
    // A secret: typed unseen, and the form says it is never shown again.
    expect(await uri.getAttribute('type')).toBe('password');
    expect(await page.locator('#new-source-uri-help').textContent()).toMatch(/never shows it again/);

    // Nothing filled in: Test connection names what is missing and asks nothing of the server.
    await form.getByRole('button', { name: 'Test connection' }).click();
    await expect
      .poll(() => page.locator('#new-source-uri-error').textContent())
      .toBe('Enter the connection string.');
    expect(await uri.getAttribute('aria-invalid')).toBe('true');

    // An unreachable server: the reason, without the URI.
    await form.getByLabel('Name').fill('company-logs');
    await uri.fill(unreachable);
    await form.getByLabel('Database').fill('company');
    await form.getByLabel('Collection').fill('logs');
    await form.getByRole('button', { name: 'Test connection' }).click();
    const result = form.locator('.test-result');
    await expect
      .poll(() => result.textContent(), { timeout: UI_TIMEOUT })
      .toMatch(/^Cannot read the source: \S/);
    expect(await result.getAttribute('class')).toContain('error');
    expect(await result.textContent()).not.toContain('mongodb://');
    expect(await result.textContent()).not.toContain('serverSelectionTimeoutMS');
    await shot(page, 'admin-source-add-unreachable.png');

    // Pasted JSON is checked as JSON before anything is sent...
    await form.getByLabel('My own, as JSON').check();
    const json = form.getByLabel('Mapping JSON');
    await json.fill('{"shape": ');
    await form.getByRole('button', { name: 'Add source' }).click();
    await expect
      .poll(() => page.locator('#new-source-json-error').textContent())
      .toMatch(/^This is not valid JSON: /);
    expect(await json.getAttribute('aria-invalid')).toBe('true');
    // ...and as a mapping by the server, whose problems are listed; everything typed stays.
    await json.fill('{"shape":"nonsense"}');
    await form.getByRole('button', { name: 'Add source' }).click();
    const problems = form.locator('.mapping-problems li');
    await expect.poll(() => problems.first().textContent(), { timeout: UI_TIMEOUT }).toMatch(/^shape: /);
    expect(await form.locator('.form-error > p').textContent()).toBe('The server refused the field mapping:');
    expect(await form.getByLabel('Name').inputValue()).toBe('company-logs');
    expect(await uri.inputValue()).toBe(unreachable);
    expect(await json.inputValue()).toBe('{"shape":"nonsense"}');

    // A shipped mapping, but still the unreachable server: refused with the reason, input kept.
    await form.getByLabel('A shipped mapping').check();
    await form.getByLabel('Shipped mapping', { exact: true }).selectOption('helpdesk-messages');
    await form.getByRole('button', { name: 'Add source' }).click();
    await expect
      .poll(() => form.locator('.form-error').textContent(), { timeout: UI_TIMEOUT })
      .toMatch(/^Cannot read the source: /);
    expect(await form.locator('.form-error').textContent()).not.toContain('mongodb://');
    expect(await uri.inputValue()).toBe(unreachable);

    // Parley's own database server answers; the source is added and listed.
    await uri.fill('self');
    // The old connection's test result and refusal are gone.
    expect(await result.textContent()).toBe('');
    expect(await form.locator('.form-error').textContent()).toBe('');
    await form.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => result.textContent()).toBe('Connected: company.logs answers.');
    expect(await result.getAttribute('class')).toContain('ok');
    await shot(page, 'admin-source-add.png');
    await form.getByRole('button', { name: 'Add source' }).click();
    await expect
      .poll(() => page.locator('.notice-line').textContent(), { timeout: UI_TIMEOUT })
      .toBe('Source company-logs added. Run its ingestion to read it.');
    expect(await form.count()).toBe(0);
    const row = page.locator('tr[data-source="company-logs"]');
    await expect.poll(() => row.locator('td').first().textContent()).toBe('mongodb · logs');
    expect(await row.getByRole('button', { name: 'Run ingestion of company-logs' }).count()).toBe(1);
    expect(await page.content()).not.toContain('serverSelectionTimeoutMS');
    const stored = await running.db.models.Source.findOne({ name: 'company-logs' }).select('+uri').lean();
    expect(stored).toMatchObject({
      kind: 'mongodb',
      uri: 'self',
      database: 'company',
      collectionName: 'logs',
      mapping: { shape: 'message-per-document', fields: { role: 'author.type' } },
    });
    await shot(page, 'admin-sources-added.png');

    // Its page: the field mapping, edited; the server's problems with a bad one, then a shipped one.
    await row.getByRole('link', { name: 'company-logs' }).click();
    await page.getByRole('heading', { name: 'Source company-logs', level: 1 }).waitFor();
    const mapping = page.locator('section[aria-labelledby="mapping-title"]');
    await expect
      .poll(() => mapping.locator('p').first().textContent())
      .toMatch(/^Reads message-per-document/);
    await mapping.getByRole('button', { name: 'Edit field mapping' }).click();
    await mapping.getByLabel('My own, as JSON').check();
    await mapping.getByLabel('Mapping JSON').fill('{"shape":"nonsense"}');
    await mapping.getByRole('button', { name: 'Save mapping' }).click();
    await expect
      .poll(() => mapping.locator('.mapping-problems li').first().textContent(), { timeout: UI_TIMEOUT })
      .toMatch(/^shape: /);
    expect(await mapping.getByLabel('Mapping JSON').inputValue()).toBe('{"shape":"nonsense"}');
    await shot(page, 'admin-source-mapping-refused.png');
    await mapping.getByLabel('A shipped mapping').check();
    await mapping.getByLabel('Shipped mapping', { exact: true }).selectOption('conversations');
    await mapping.getByRole('button', { name: 'Save mapping' }).click();
    await expect
      .poll(() => page.locator('.notice-line').textContent(), { timeout: UI_TIMEOUT })
      .toBe('Field mapping of company-logs saved: it reads conversation-per-document.');
    await expect
      .poll(() => mapping.locator('p').first().textContent())
      .toMatch(/^Reads conversation-per-document/);
    expect(await page.locator('section[aria-labelledby="source-title"] dd.mono').textContent()).toBe(
      'company.logs (conversation-per-document)',
    );
    const remapped = await running.db.models.Source.findOne({ name: 'company-logs' }).lean();
    expect(remapped!.mapping).toMatchObject({
      shape: 'conversation-per-document',
      fields: { messages: 'turns' },
    });
    await shot(page, 'admin-source-mapping.png');

    // A widget source has no field mapping to edit.
    await page.goto(`${running.url}/console/sources/widget%3Ashop`);
    await page.getByRole('heading', { name: 'Source widget:shop', level: 1 }).waitFor();
    await page.locator('section[aria-labelledby="runs-title"]').waitFor();
    expect(await page.getByRole('button', { name: 'Edit field mapping' }).count()).toBe(0);
    expect(await page.locator('section[aria-labelledby="mapping-title"]').count()).toBe(0);

    const actions = (await running.db.models.AuditEvent.find({}).lean()).map((event) => event.action);
    expect(actions).toEqual(expect.arrayContaining(['source.add', 'source.mapping']));
    expect(errors).toEqual([]);
  }, 120_000);

  it('shows privacy spend, edits sites, manages users and filters the audit log', async () => {
    const { page, errors } = await signedIn(ADMIN);

    await go(page, 'Privacy');
    await page.getByRole('heading', { name: 'Privacy', level: 1 }).waitFor();
    await expect.poll(() => page.locator('.budget-line').textContent()).toMatch(/Budget: ε 10/);
    await expect.poll(() => page.locator('.spend').count()).toBeGreaterThan(0);
    await shot(page, 'admin-privacy.png');

    // Sites: the snippet copies; a new site; an edit of the threshold and colour.
    await go(page, 'Sites');
    const card = page.locator('li[data-site="shop"]');
    await card.waitFor();
    await card.getByRole('button', { name: 'Copy the snippet of shop' }).click();
    await expect.poll(() => card.locator('.snippet-head [role="status"]').textContent()).toBe('Copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain(shop.publicKey);
    await shot(page, 'admin-sites.png');

    await page.getByRole('button', { name: 'Add a site' }).click();
    await page.getByLabel('Name', { exact: true }).fill('harbor');
    await page.getByLabel('Origins').fill('harbor.example');
    await page.getByRole('button', { name: 'Add site' }).click();
    await expect
      .poll(() => page.locator('#new-site-origins-error').textContent())
      .toBe('harbor.example is not an origin such as https://shop.example.');
    await page.getByLabel('Origins').fill('https://harbor.example');
    await page.getByRole('button', { name: 'Add site' }).click();
    await expect.poll(() => page.locator('.notice-line').textContent()).toMatch(/^Site harbor added/);
    await page.locator('li[data-site="harbor"]').waitFor();

    await card.getByRole('button', { name: 'Edit shop' }).click();
    await card.getByLabel('Handoff threshold').fill('0.2');
    await card.getByLabel('Accent colour', { exact: true }).fill('#aa2200');
    await shot(page, 'admin-site-edit.png');
    await card.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.locator('.notice-line').textContent()).toBe('Site shop saved.');
    await expect.poll(() => card.textContent()).toContain('below 20% confidence');
    const stored = await running.db.models.Site.findOne({ name: 'shop' }).lean();
    expect(stored).toMatchObject({ handoffThreshold: 0.2, theme: { primaryColor: '#aa2200' } });

    // Users: add one, make them an admin, disable them; yourself you cannot change.
    await go(page, 'Users');
    await page.getByRole('heading', { name: 'Add a user' }).waitFor();
    const form = page.locator('section[aria-labelledby="add-user-title"]');
    await form.getByLabel('Email').fill('dana@shop.example');
    await form.getByLabel('Name').fill('Dana');
    await form.getByLabel('Password').fill('short');
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect
      .poll(() => page.locator('#user-password-error').textContent())
      .toBe('Use at least 12 characters.');
    expect(await form.getByLabel('Email').inputValue()).toBe('dana@shop.example');
    await form.getByLabel('Password').fill('a long enough password');
    await form.getByRole('button', { name: 'Add user' }).click();
    await expect.poll(() => page.locator('.notice-line').textContent()).toBe('Dana can sign in now.');
    const dana = page.locator('tr[data-email="dana@shop.example"]');
    await dana.getByLabel('Role of Dana').selectOption('admin');
    await expect.poll(() => page.locator('.notice-line').textContent()).toBe('Dana is now an admin.');
    await dana.getByRole('button', { name: 'Disable Dana' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => page.locator('.notice-line').textContent()).toBe('Dana is disabled.');
    await expect.poll(() => dana.getByRole('button', { name: 'Enable Dana' }).count()).toBe(1);
    expect(await page.locator(`tr[data-email="${ADMIN.email}"]`).getByRole('combobox').isDisabled()).toBe(
      true,
    );
    await shot(page, 'admin-users.png');

    // Audit: everything, then one action.
    await go(page, 'Audit log');
    await page.locator('.audit-table tbody tr').first().waitFor();
    await page.getByLabel('Action').selectOption('user.update');
    await expect
      .poll(async () => [
        ...new Set(
          await page
            .locator('.audit-table tbody tr')
            .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action'))),
        ),
      ])
      .toEqual(['user.update']);
    expect(await page.locator('.audit-table tbody tr').count()).toBe(2);
    await shot(page, 'admin-audit.png');

    // Narrow screens: one column still.
    await page.setViewportSize({ width: 420, height: 860 });
    await go(page, 'Versions');
    await page.locator('.versions-table').waitFor();
    // The nav scrolls sideways inside itself; the page does not.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(420);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-versions-phone.png') });

    expect(errors).toEqual([]);
  }, 120_000);

  it('shows an agent no admin pages, and "admins only" at an admin address', async () => {
    const { page, errors } = await signedIn(AGENT);
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Inbox', 'Review queue']);
    expect(await nav.getByRole('heading', { name: 'Admin' }).count()).toBe(0);
    await page.goto(`${running.url}/console/versions`);
    await page.getByRole('heading', { name: 'Admins only', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Admins only');
    await shot(page, 'admin-agent-refused.png');
    expect(errors).toEqual([]);
  });
});
