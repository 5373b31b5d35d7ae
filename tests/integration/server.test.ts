import { access } from 'node:fs/promises';
import path from 'node:path';
import { io as connectSocket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, SNAPSHOT_FILE } from '../../server/db/embedded/index.js';
import { lockPath } from '../../server/db/embedded/lock.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { promoteVersion } from '../../server/registry/promote.js';
import { tempDataDir, testEnv } from '../support/env.js';

describe('Parley server', () => {
  let dataDir: { dir: string; cleanup: () => Promise<void> };
  let running: RunningParley | null = null;

  beforeEach(async () => {
    dataDir = await tempDataDir();
  });
  afterEach(async () => {
    await running?.close();
    running = null;
    await dataDir.cleanup();
  });

  const start = async (overrides: Record<string, string> = {}) => {
    running = await startParley(testEnv(dataDir.dir, overrides));
    return running;
  };

  it('reports the database up and no model on /healthz, live but not ready, and says why', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ ok: true, db: 'up', model: null, ready: false });
    expect(body.serving).toMatchObject({ ready: false, state: 'no-model', version: null });
    expect(body.serving.reason).toMatch(
      /no model to serve: nothing is promoted and no base model is installed/,
    );
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, version: null });
  });

  it('on a fresh start installs the shipped starter model, registers it as v1 and serves it', async () => {
    const { url, db, chat } = await start({ PARLEY_BASE_MODEL: path.join(dataDir.dir, 'models', 'starter') });
    await access(path.join(dataDir.dir, 'models', 'starter', 'model.safetensors'));
    expect(await db.models.ModelVersion.find({}).lean()).toMatchObject([{ version: 'v1', status: 'active' }]);
    await chat.refresh();
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 60_000 }).toBe(200);
    const reply = await chat.reply([{ role: 'customer', text: 'Hello, I need help with my booking.' }], {
      maxNewTokens: 8,
    });
    expect(reply.modelVersion).toBe('v1');
    expect(reply.confidence).toBeGreaterThan(0);
    expect(reply.confidence).toBeLessThanOrEqual(1);
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ model: 'v1', ready: true });
  }, 90_000);

  it('reports the active model version once one is promoted', async () => {
    const { url, db } = await start();
    await db.models.ModelVersion.create([
      { version: 'v1', artifactPath: '/m/v1', baseModel: 'starter' },
      { version: 'v2', artifactPath: '/m/v2', baseModel: 'starter' },
    ]);
    const gate = { tolerances: { loss: 0.02, r1: 0.02 }, actor: { kind: 'cli' as const } };
    await promoteVersion(db.models, 'v1', gate);
    await promoteVersion(db.models, 'v2', gate);
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ model: 'v2' });
  });

  it('answers 503 with db "down" when the database is gone', async () => {
    const { url, db } = await start();
    await db.connection.close();
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ ok: false, db: 'down', model: null, ready: false });
  });

  it('serves the demo page at /', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('<main id="main">');
    expect(html).toContain('Taskmaster-4 (2024), Bill Byrne and Saravanan Ganesh, Google LLC');
  });

  it('renders unknown routes as a JSON error', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      ok: false,
      error: 'not_found',
      message: 'No route for GET /nope.',
    });
  });

  it('rejects malformed JSON bodies with a 400 JSON error', async () => {
    const { url } = await start();
    // The API parses bodies (before sessions and CSRF); nothing outside it reads one.
    const response = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ ok: false, error: 'invalid_json' });
  });

  it('accepts Socket.IO clients on the same port', async () => {
    const { url } = await start();
    const socket = connectSocket(url, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it('shuts down cleanly: disconnects sockets, stops HTTP, writes the snapshot, frees the data directory', async () => {
    const parley = await start();
    const socket = connectSocket(parley.url, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await parley.db.models.AuditEvent.create({ at: new Date(), action: 'test.before-shutdown' });

    await parley.close();
    running = null;
    expect(await disconnected).toBe('io server disconnect');
    await expect(fetch(`${parley.url}/healthz`)).rejects.toThrow();
    await access(path.join(dataDir.dir, SNAPSHOT_FILE));
    await expect(access(lockPath(dataDir.dir))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps data and its types across a restart of the embedded database', async () => {
    const first = await start();
    const at = new Date('2024-03-01T12:00:00Z');
    await first.db.models.AuditEvent.create({ at, action: 'test.persisted' });
    await first.close();

    const second = await start();
    const found = await second.db.models.AuditEvent.find({ at: { $gte: new Date('2024-01-01') } }).lean();
    expect(found.map((e) => e.action)).toEqual(['test.persisted']);
  });

  it('refuses to open a data directory another running Parley owns', async () => {
    await start();
    await expect(startParley(testEnv(dataDir.dir))).rejects.toBeInstanceOf(DataDirLockedError);
  });

  it('seeds the demo on first start only, when PARLEY_DEMO is on', async () => {
    const first = await start({ PARLEY_DEMO: 'true' });
    expect(first.seeded?.users.created).toHaveLength(2);
    await first.close();
    const second = await start({ PARLEY_DEMO: 'true' });
    expect(second.seeded).toBeNull();
    expect(await second.db.models.User.countDocuments()).toBe(2);
  });

  it('creates no demo users in production', async () => {
    const parley = await start({ NODE_ENV: 'production', PARLEY_DEMO: '' });
    expect(parley.seeded).toBeNull();
    expect(await parley.db.models.User.countDocuments()).toBe(0);
  });
});
