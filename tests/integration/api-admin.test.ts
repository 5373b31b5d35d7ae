/**
 * The admin API: versions (promote with the gate, override, roll back; the live chat follows),
 * sites, users and the audit log, and the read-only data pages.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { createSite } from '../../server/sites/index.js';
import { ApiClient } from '../support/api-client.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { waitForModel } from '../support/serving.js';
import { clientMessageId, connectVisitor, nextReply } from '../support/widget-client.js';

const PASSWORD = 'correct horse battery';
const SHOP = 'https://shop.example';

describe('the admin API', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;
  let admin: ApiClient;

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    cleanup = dataDir.cleanup;
    running = await startParley(
      testEnv(dataDir.dir, {
        PARLEY_BASE_MODEL: path.join(dataDir.dir, 'models', 'starter'),
        PARLEY_SERVING_WORKERS: '1',
        PARLEY_MODEL_POLL_MS: '0',
        PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '1000',
      }),
    );
    await createUser(running.db.models, {
      email: 'ada@x.example',
      name: 'Ada',
      role: 'admin',
      password: PASSWORD,
    });
    admin = new ApiClient(running.url);
    expect((await admin.login('ada@x.example', PASSWORD)).status).toBe(200);
    // v2: the same weights as v1, with a worse validation loss than v1 for the gate to catch.
    const v1 = await running.db.models.ModelVersion.findOne({ version: 'v1' }).lean();
    await running.db.models.ModelVersion.updateOne(
      { _id: v1!._id },
      { $set: { metrics: { validationLoss: 1.6 } } },
    );
    await running.db.models.ModelVersion.create({
      version: 'v2',
      artifactPath: v1!.artifactPath,
      baseModel: v1!.baseModel,
      metrics: { validationLoss: 1.9 },
    });
    await waitForModel(running);
  }, 60_000);
  afterAll(async () => {
    await running.widget.replies.idle();
    await running.close();
    await cleanup();
  });

  it('lists versions with the active one marked, blocks a worse one at the gate, promotes it with a reason, and rolls back; the live chat follows', async () => {
    const listed = await admin.request<{ active: string; versions: { version: string; active: boolean }[] }>(
      'GET',
      '/versions',
    );
    expect(listed.body.active).toBe('v1');
    expect(listed.body.versions.map((v) => [v.version, v.active])).toEqual([
      ['v2', false],
      ['v1', true],
    ]);

    const blocked = await admin.request('POST', '/versions/v2/promote', {});
    expect(blocked.status).toBe(409);
    expect(blocked.body).toMatchObject({
      error: 'gate_failed',
      failures: [expect.stringMatching(/^validation loss/)],
    });
    expect(String((blocked.body as { message: string }).message)).toMatch(/validation loss 1\.9000 is worse/);

    const promoted = await admin.request('POST', '/versions/v2/promote', {
      override: 'same weights, testing the swap',
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ version: 'v2', previous: 'v1', overridden: true });
    await expect.poll(() => running.chat.status().version, { timeout: 30_000 }).toBe('v2');
    expect((await admin.request('GET', '/versions/v1')).body).toMatchObject({
      active: false,
      activeVersion: 'v2',
    });

    const site = await createSite(running.db.models, { name: 'shop', origins: [SHOP], handoffThreshold: 0 });
    const { socket } = await connectVisitor(running.url, { siteKey: site.publicKey, origin: SHOP });
    const reply = nextReply(socket);
    await socket.emitWithAck('message:send', { clientMessageId: clientMessageId(), text: 'hello' });
    await reply;
    await running.widget.replies.idle();
    const stored = await running.db.models.Conversation.findOne({ siteId: site._id }).lean();
    expect(stored!.messages.find((m) => m.role === 'bot')!.modelVersion).toBe('v2');
    socket.close();

    const rolledBack = await admin.request('POST', '/versions/rollback', {});
    expect(rolledBack.body).toMatchObject({ version: 'v1', from: 'v2' });
    await expect.poll(() => running.chat.status().version, { timeout: 30_000 }).toBe('v1');
    const actions = (await admin.request<{ events: { action: string }[] }>('GET', '/audit')).body.events.map(
      (e) => e.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['version.promote.override', 'version.rollback']));
  });

  it('adds, changes and lists sites with their embed snippet', async () => {
    const created = await admin.request<{ site: { name: string; snippet: string; publicKey: string } }>(
      'POST',
      '/sites',
      {
        name: 'blog',
        origins: ['https://blog.example'],
      },
    );
    expect(created.status).toBe(201);
    expect(created.body.site.snippet).toContain(`data-site-key="${created.body.site.publicKey}"`);
    const changed = await admin.request('PATCH', '/sites/blog', {
      theme: { position: 'left' },
      handoffThreshold: 0.3,
    });
    expect(changed.body).toMatchObject({ site: { theme: { position: 'left' }, handoffThreshold: 0.3 } });
    expect(
      (await admin.request('PATCH', '/sites/blog', { theme: { primaryColor: 'expression(alert(1))' } }))
        .status,
    ).toBe(400);
    const names = (await admin.request<{ sites: { name: string }[] }>('GET', '/sites')).body.sites.map(
      (s) => s.name,
    );
    expect(names).toContain('blog');
  });

  it('adds users, changes their role, disables them, and never lets an admin lock themselves out', async () => {
    const created = await admin.request<{ user: { id: string; role: string } }>('POST', '/users', {
      email: 'sam@x.example',
      name: 'Sam',
      role: 'agent',
      password: 'a long enough password',
    });
    expect(created.status).toBe(201);
    const id = created.body.user.id;
    expect((await admin.request('PATCH', `/users/${id}`, { role: 'admin' })).body).toMatchObject({
      user: { role: 'admin' },
    });
    expect((await admin.request('PATCH', `/users/${id}`, { disabled: true })).body).toMatchObject({
      user: { disabled: true },
    });
    expect((await new ApiClient(running.url).login('sam@x.example', 'a long enough password')).status).toBe(
      403,
    );

    expect(
      (
        await admin.request('POST', '/users', {
          email: 'short@x.example',
          name: 'S',
          role: 'agent',
          password: 'short',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await admin.request('POST', '/users', {
          email: 'sam@x.example',
          name: 'Sam',
          role: 'agent',
          password: 'a long enough password',
        })
      ).status,
    ).toBe(409);
    const me = (await admin.session()).user!;
    const self = await admin.request('PATCH', `/users/${me.id}`, { disabled: true });
    expect(self.status).toBe(409);
    expect(self.body).toMatchObject({ error: 'self_lockout' });
  });

  it('reads sources (with the widget source of each site), datasets, privacy spend and training jobs', async () => {
    const sources = await admin.request<{ sources: { name: string; kind: string }[] }>('GET', '/sources');
    expect(sources.body.sources).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'widget:shop', kind: 'widget' })]),
    );
    expect((await admin.request('GET', '/sources/widget:shop/runs')).body).toEqual({ runs: [] });
    expect((await admin.request('GET', '/sources/nope/runs')).status).toBe(404);
    expect((await admin.request('GET', '/datasets')).body).toEqual({ datasets: [] });
    expect((await admin.request('GET', '/privacy')).body).toEqual({ budget: {}, spend: [] });
    expect((await admin.request('GET', '/training-jobs')).body).toEqual({ jobs: [] });
    expect((await admin.request('POST', '/training-jobs/0123456789abcdef01234567/cancel', {})).status).toBe(
      409,
    );
  });

  it('tests a source connection, adds a source with a shipped mapping, edits its mapping, and never reads a mapping from a path', async () => {
    const unreachable = await admin.request('POST', '/sources/test', {
      uri: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300',
      database: 'company',
      collection: 'logs',
    });
    expect(unreachable.status).toBe(400);
    expect(unreachable.body).toMatchObject({ error: 'source_unreachable' });
    expect(JSON.stringify(unreachable.body)).not.toContain('mongodb://');

    const added = await admin.request('POST', '/sources', {
      name: 'helpdesk',
      uri: 'self',
      database: 'company',
      collection: 'logs',
      mapping: 'helpdesk-messages',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ source: { name: 'helpdesk', shape: 'message-per-document' } });
    expect(JSON.stringify(added.body)).not.toContain('self');
    expect(
      (
        await admin.request('POST', '/sources', {
          name: 'helpdesk',
          uri: 'self',
          database: 'c',
          collection: 'l',
          mapping: 'conversations',
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await admin.request('POST', '/sources', {
          name: 'sneaky',
          uri: 'self',
          database: 'c',
          collection: 'l',
          mapping: '../../package.json',
        })
      ).status,
    ).toBe(400);

    const changed = await admin.request('PATCH', '/sources/helpdesk', { mapping: 'conversations' });
    expect(changed.body).toMatchObject({ source: { shape: 'conversation-per-document' } });
    const invalid = await admin.request('PATCH', '/sources/helpdesk', { mapping: { shape: 'nonsense' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ error: 'invalid_mapping' });
    expect((await admin.request('PATCH', '/sources/widget:shop', { mapping: 'conversations' })).status).toBe(
      400,
    );
  });
});
