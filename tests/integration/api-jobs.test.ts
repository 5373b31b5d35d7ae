/**
 * Work an admin starts from the console: close chats, ingest the site's widget source, build a
 * dataset and train on it, following progress over the /agent socket.
 */
import { ObjectId } from 'mongodb';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.js';
import { type RunningParley, startParley } from '../../server/index.js';
import type {
  AgentClientToServer,
  AgentServerToClient,
  DatasetDoneEvent,
  IngestDoneEvent,
  TrainingDoneEvent,
  TrainingProgressEvent,
} from '../../server/realtime/agent/protocol.js';
import { createSite, type StoredSite } from '../../server/sites/index.js';
import { ApiClient } from '../support/api-client.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { tinyBaseModel } from '../support/pipeline.js';
import { clientMessageId, connectVisitor } from '../support/widget-client.js';

const PASSWORD = 'correct horse battery';
const SHOP = 'https://shop.example';
type AdminSocket = Socket<AgentServerToClient, AgentClientToServer>;

const next = <E extends keyof AgentServerToClient>(socket: AdminSocket, event: E) =>
  new Promise<Parameters<AgentServerToClient[E]>[0]>((resolve) =>
    socket.once(event, ((payload: Parameters<AgentServerToClient[E]>[0]) => resolve(payload)) as never),
  );

describe('admin jobs', () => {
  let running: RunningParley;
  let dataDir: { dir: string; cleanup: () => Promise<void> };
  let admin: ApiClient;
  let socket: AdminSocket;
  let shop: StoredSite;

  beforeAll(async () => {
    dataDir = await tempDataDir();
    const base = await tinyBaseModel(dataDir.dir);
    running = await startParley(
      testEnv(dataDir.dir, {
        PARLEY_BASE_MODEL: base,
        PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '1000',
        PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: '1000',
        TFJS_BACKEND: 'cpu',
      }),
    );
    shop = await createSite(running.db.models, { name: 'shop', origins: [SHOP] });
    await createUser(running.db.models, {
      email: 'ada@x.example',
      name: 'Ada',
      role: 'admin',
      password: PASSWORD,
    });
    admin = new ApiClient(running.url);
    await admin.login('ada@x.example', PASSWORD);
    socket = io(`${running.url}/agent`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: admin.sessionCookie!, origin: new URL(running.url).origin },
    });
    await new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(undefined));
      socket.once('connect_error', reject);
    });
  }, 60_000);
  afterAll(async () => {
    socket?.close();
    await running.widget.replies.idle();
    await running.close();
    await dataDir.cleanup();
  });

  it('closes chats (a visitor who writes again starts a new one), ingests, builds a dataset and trains, with progress', async () => {
    // Twelve visitors, each answered by an agent, then closed.
    for (let i = 0; i < 12; i++) {
      const visitor = await connectVisitor(running.url, { siteKey: shop.publicKey, origin: SHOP });
      await visitor.socket.emitWithAck('message:send', {
        clientMessageId: clientMessageId(),
        text: `hello number ${i}`,
      });
      await running.widget.replies.idle();
      const id = visitor.session.conversationId;
      await admin.request('POST', `/conversations/${id}/messages`, {
        text: 'hi how can i help',
        clientMessageId: clientMessageId(),
      });
      const closedNotice = new Promise((resolve) => visitor.socket.once('handoff', resolve));
      expect((await admin.request('POST', `/conversations/${id}/close`, {})).status).toBe(200);
      expect(await closedNotice).toMatchObject({ mode: 'closed' });
      if (i === 0) {
        const fresh = new Promise<{ conversationId: string; messages: unknown[] }>((resolve) =>
          visitor.socket.once('session', resolve),
        );
        const ack = await visitor.socket.emitWithAck('message:send', {
          clientMessageId: clientMessageId(),
          text: 'one more thing',
        });
        expect(ack.ok).toBe(true);
        const session = await fresh;
        expect(session.conversationId).not.toBe(id);
        expect(session.messages).toEqual([]);
        await running.widget.replies.idle();
      }
      visitor.socket.close();
    }

    const ingested = next(socket, 'ingest:done');
    const progressed = next(socket, 'ingest:progress');
    const start = await admin.request('POST', '/sources/widget:shop/ingest', {});
    expect(start.status).toBe(202);
    expect((await admin.request('POST', '/sources/widget:shop/ingest', {})).status).toBe(409);
    expect(await progressed).toMatchObject({ source: 'widget:shop', total: 12 });
    const done = (await ingested) as IngestDoneEvent;
    expect(done).toMatchObject({
      source: 'widget:shop',
      error: null,
      summary: { status: 'succeeded', conversations: 12 },
    });

    const built = next(socket, 'dataset:done');
    expect(
      (await admin.request('POST', '/datasets', { sources: ['widget:shop'], validationPercent: 0 })).status,
    ).toBe(202);
    const dataset = (await built) as DatasetDoneEvent;
    expect(dataset).toMatchObject({ status: 'ready', error: null });

    const steps: TrainingProgressEvent[] = [];
    socket.on('training:progress', (event) => steps.push(event));
    const trained = next(socket, 'training:done');
    const job = await admin.request<{ jobId: string }>('POST', '/training-jobs', {
      datasetId: dataset.datasetId,
      epochs: 1,
      batchSize: 4,
    });
    expect(job.status).toBe(202);
    const result = (await trained) as TrainingDoneEvent;
    expect(result).toMatchObject({ jobId: job.body.jobId, status: 'succeeded', error: null });
    expect(result.version).toMatch(/^v\d+$/);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.at(-1)).toMatchObject({ jobId: job.body.jobId, step: steps.at(-1)!.totalSteps });
    const stored = await admin.request<{ status: string; metrics: unknown[] }>(
      'GET',
      `/training-jobs/${job.body.jobId}`,
    );
    expect(stored.body.status).toBe('succeeded');
    expect(stored.body.metrics.length).toBe(steps.at(-1)!.totalSteps);

    const actions = (await admin.request<{ events: { action: string }[] }>('GET', '/audit')).body.events.map(
      (e) => e.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['ingest.start', 'dataset.build', 'training.start']));
  }, 120_000);

  it.each([
    ['POST', '/sources/nope/ingest', {}, 404],
    ['POST', '/datasets', { sources: [] }, 400],
    ['POST', '/datasets', { sources: ['nope'] }, 404],
    ['POST', '/training-jobs', { datasetId: new ObjectId().toHexString() }, 404],
    ['POST', '/training-jobs', { datasetId: 'x', epochs: -1 }, 400],
    [
      'POST',
      '/training-jobs',
      { datasetId: new ObjectId().toHexString(), dp: { targetEpsilon: 'lots' } },
      400,
    ],
  ])('answers %s %s %j with %s and starts nothing', async (method, path, body, status) => {
    const before = await running.db.models.TrainingJob.countDocuments();
    expect((await admin.request(method, path, body)).status).toBe(status);
    expect(await running.db.models.TrainingJob.countDocuments()).toBe(before);
  });
});
