/**
 * The agent inbox end to end over real sockets and HTTP: a visitor chats in the widget, an agent
 * watches live, takes over, replies, rates and corrects bot replies, hands back; the ratings reach
 * the next dataset.
 */
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.js';
import { buildDataset } from '../../server/datasets/build.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { inThreadAnonymizer } from '../../server/ingest/batch-anonymizer.js';
import { runIngestion } from '../../server/ingest/run.js';
import { ChatTokenizer } from '../../server/ml/tokenizer.js';
import { createAnonymizer } from '../../server/privacy/pii/index.js';
import type {
  AgentClientToServer,
  AgentServerToClient,
  ConversationDetail,
  ConversationSummary,
  ReviewItem,
} from '../../server/realtime/agent/protocol.js';
import { createSite, type StoredSite } from '../../server/sites/index.js';
import { ApiClient } from '../support/api-client.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { TEST_PII_KEY } from '../support/pipeline.js';
import { waitForModel } from '../support/serving.js';
import { clientMessageId, connectVisitor, nextReply, type VisitorSocket } from '../support/widget-client.js';

const SHOP = 'https://shop.example';
const PASSWORD = 'correct horse battery';
type AgentSocket = Socket<AgentServerToClient, AgentClientToServer>;

describe('the agent inbox', () => {
  let running: RunningParley;
  let dataDir: { dir: string; cleanup: () => Promise<void> };
  let shop: StoredSite;
  let agent: ApiClient;
  const sockets: (VisitorSocket | AgentSocket)[] = [];

  const agentSocket = (cookie: string | null, origin = new URL(running.url).origin): AgentSocket => {
    const socket: AgentSocket = io(`${running.url}/agent`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { ...(cookie ? { cookie } : {}), origin },
    });
    sockets.push(socket);
    return socket;
  };
  const connected = (socket: AgentSocket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  const refusal = (socket: AgentSocket) =>
    new Promise<string | undefined>((resolve, reject) => {
      socket.once('connect', () => reject(new Error('connected')));
      socket.once('connect_error', (error) =>
        resolve((error as Error & { data?: { code?: string } }).data?.code),
      );
    });
  const visit = async () => {
    const visitor = await connectVisitor(running.url, { siteKey: shop.publicKey, origin: SHOP });
    sockets.push(visitor.socket);
    return visitor;
  };
  const say = (socket: VisitorSocket, text: string) =>
    socket.emitWithAck('message:send', { clientMessageId: clientMessageId(), text });

  beforeAll(async () => {
    dataDir = await tempDataDir();
    running = await startParley(
      testEnv(dataDir.dir, {
        PARLEY_BASE_MODEL: path.join(dataDir.dir, 'models', 'starter'),
        PARLEY_SERVING_WORKERS: '1',
        PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '1000',
        PARLEY_WIDGET_MESSAGES_PER_MINUTE: '1000',
        PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: '1000',
      }),
    );
    shop = await createSite(running.db.models, { name: 'shop', origins: [SHOP], handoffThreshold: 0 });
    await createUser(running.db.models, {
      email: 'dana@shop.example',
      name: 'Dana',
      role: 'agent',
      password: PASSWORD,
    });
    agent = new ApiClient(running.url);
    expect((await agent.login('dana@shop.example', PASSWORD)).status).toBe(200);
    await waitForModel(running);
  }, 60_000);
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await running.widget.replies.idle();
    await running.close();
    await dataDir.cleanup();
  });

  it('refuses console sockets without a session or from another origin', async () => {
    expect(await refusal(agentSocket(null))).toBe('unauthorized');
    expect(await refusal(agentSocket(agent.sessionCookie, 'https://evil.example'))).toBe('forbidden');
  });

  it('counts a connected agent as online, so a visitor asking for a person hears that someone will answer', async () => {
    const console_ = agentSocket(agent.sessionCookie);
    const presence = new Promise((resolve) => console_.once('presence', resolve));
    await connected(console_);
    expect(await presence).toEqual({ agentsOnline: 1 });
    const { socket } = await visit();
    expect(await socket.emitWithAck('handoff:request', {})).toMatchObject({ state: { agentsOnline: true } });
  });

  it('lists live chats waiting for a person first, and streams a watched chat to the agent', async () => {
    const calm = await visit();
    const reply = nextReply(calm.socket);
    await say(calm.socket, 'What are your opening hours?');
    await reply;
    const urgent = await visit();
    await say(urgent.socket, 'I want to talk to a human');

    const list = await agent.request<{ conversations: ConversationSummary[] }>('GET', '/conversations');
    expect(list.status).toBe(200);
    const ids = list.body.conversations.map((c) => c.id);
    expect(ids.indexOf(urgent.session.conversationId)).toBeLessThan(ids.indexOf(calm.session.conversationId));
    expect(list.body.conversations.find((c) => c.id === calm.session.conversationId)).toMatchObject({
      mode: 'bot',
      site: 'shop',
      unratedBotReplies: 1,
    });
    const search = await agent.request<{ conversations: ConversationSummary[] }>(
      'GET',
      '/conversations?q=OPENING%20hours',
    );
    expect(search.body.conversations.map((c) => c.id)).toEqual([calm.session.conversationId]);

    const console_ = agentSocket(agent.sessionCookie);
    await connected(console_);
    expect(
      await console_.emitWithAck('conversation:watch', { conversationId: calm.session.conversationId }),
    ).toEqual({
      ok: true,
    });
    const heard: string[] = [];
    let streamed = '';
    console_.on('message', (event) => heard.push(`${event.message.role}:${event.message.text.slice(0, 10)}`));
    console_.on('reply:token', (event) => (streamed += event.delta));
    const updated = new Promise<ConversationSummary>((resolve) =>
      console_.once('conversation:updated', resolve),
    );
    const second = nextReply(calm.socket);
    await say(calm.socket, 'And on Sundays?');
    const botReply = await second;
    await running.widget.replies.idle();
    await expect
      .poll(() => heard)
      .toEqual(['customer:And on Sun', `bot:${botReply.message!.text.slice(0, 10)}`]);
    expect(streamed.trim()).toBe(botReply.message!.text);
    expect((await updated).id).toBe(calm.session.conversationId);
  });

  it('takes over, replies as a person (once per client id), hands back, and the visitor sees each step', async () => {
    const { socket, session } = await visit();
    const first = nextReply(socket);
    await say(socket, 'My parcel is late');
    await first;
    const id = session.conversationId;

    const handoff = new Promise((resolve) => socket.once('handoff', resolve));
    const taken = await agent.request<ConversationDetail>('POST', `/conversations/${id}/take-over`, {});
    expect(taken.status).toBe(200);
    expect(taken.body.mode).toBe('human');
    expect(await handoff).toEqual({ mode: 'human', reason: 'agent', agentsOnline: false });

    const relayed = new Promise((resolve) => socket.once('message', resolve));
    const replyId = clientMessageId();
    const sent = await agent.request('POST', `/conversations/${id}/messages`, {
      text: 'Dana here, let me check.',
      clientMessageId: replyId,
    });
    expect(sent.status).toBe(201);
    expect(await relayed).toMatchObject({
      role: 'agent',
      text: 'Dana here, let me check.',
      authorName: 'Dana',
    });
    await agent.request('POST', `/conversations/${id}/messages`, {
      text: 'Dana here, let me check.',
      clientMessageId: replyId,
    });
    const detail = await agent.request<ConversationDetail>('GET', `/conversations/${id}`);
    expect(detail.body.messages.filter((m) => m.role === 'agent')).toHaveLength(1);

    const back = new Promise((resolve) => socket.once('handoff', resolve));
    expect((await agent.request('POST', `/conversations/${id}/hand-back`, {})).status).toBe(200);
    expect(await back).toMatchObject({ mode: 'bot', reason: null });
    const botAgain = nextReply(socket);
    await say(socket, 'thanks!');
    expect((await botAgain).message).toMatchObject({ role: 'bot' });

    const audit = await running.db.models.AuditEvent.find({ 'target.id': id }).lean();
    expect(audit.map((e) => e.action).sort()).toEqual(['conversation.hand_back', 'conversation.take_over']);
  });

  it('rates and corrects bot replies, takes them off the review queue, and the correction trains the next model', async () => {
    const { socket, session } = await visit();
    for (const text of ['Hello, I need a taxi', 'To the airport please']) {
      const reply = nextReply(socket);
      await say(socket, text);
      await reply;
    }
    const id = session.conversationId;
    const queue = await agent.request<{ items: ReviewItem[] }>('GET', '/review-queue?order=newest');
    const mine = queue.body.items.filter((item) => item.conversationId === id);
    expect(mine).toHaveLength(2);
    expect(mine[0]!.context.at(-1)).toMatchObject({ role: 'customer', text: 'To the airport please' });
    const byConfidence = await agent.request<{ items: ReviewItem[] }>(
      'GET',
      '/review-queue?order=confidence',
    );
    const confidences = byConfidence.body.items.map((item) => item.message.confidence!);
    expect(confidences).toEqual([...confidences].sort((a, b) => a - b));

    const [newest, oldest] = mine;
    const corrected = await agent.request(
      'PUT',
      `/conversations/${id}/messages/${oldest!.message.id}/rating`,
      {
        value: 'corrected',
        reasons: ['wrong', 'unhelpful'],
        correction: 'Sure, where should the taxi pick you up?',
      },
    );
    expect(corrected.status).toBe(200);
    expect(corrected.body.message).toMatchObject({
      rating: {
        value: 'corrected',
        reasons: ['wrong', 'unhelpful'],
        correction: 'Sure, where should the taxi pick you up?',
        by: { name: 'Dana' },
      },
    });
    expect(
      (
        await agent.request('PUT', `/conversations/${id}/messages/${newest!.message.id}/rating`, {
          value: 'up',
        })
      ).status,
    ).toBe(200);
    const after = await agent.request<{ items: ReviewItem[] }>('GET', '/review-queue');
    expect(after.body.items.filter((item) => item.conversationId === id)).toEqual([]);

    const stored = (await running.db.models.Conversation.findById(id).lean())!.messages.find(
      (m) => m._id.toHexString() === oldest!.message.id,
    );
    expect(stored!.rating).toMatchObject({ value: 'corrected', byName: 'Dana' });

    // The next dataset: the site's finished chats, anonymized, with the correction and the approved reply as targets.
    await runIngestion(
      {
        models: running.db.models,
        connection: running.db.connection,
        anonymizer: inThreadAnonymizer(createAnonymizer({ hashKey: TEST_PII_KEY })),
        hashKey: TEST_PII_KEY,
      },
      'widget:shop',
      { holdOpenMs: 0 },
    );
    const base = path.join(dataDir.dir, 'models', 'starter');
    const dataset = await buildDataset(
      { models: running.db.models, dataDir: dataDir.dir },
      { sources: ['widget:shop'] },
      {
        tokenizer: await ChatTokenizer.load(base),
        baseModel: base,
        contextLength: 256,
        systemPrompt: null,
        validationPercent: 0,
      },
    );
    expect(dataset.status).toBe('ready');
    // Conversations with a trainable reply: this one (rated) and the one an agent answered above.
    expect(dataset.stats!.conversations).toBeGreaterThanOrEqual(2);
    expect(dataset.stats!.targetTokens).toBeGreaterThan(0);
  });

  it.each([
    ['a rating of a visitor message', 'customer', { value: 'up' }, 400, 'not_a_bot_reply'],
    ['a correction without text', 'bot', { value: 'corrected' }, 400, 'correction_missing'],
    ['an unknown value', 'bot', { value: 'meh' }, 400, 'bad_request'],
    ['an unknown reason', 'bot', { value: 'down', reasons: ['boring'] }, 400, 'bad_request'],
  ])('refuses %s and changes nothing', async (_case, role, body, status, error) => {
    const { socket, session } = await visit();
    const reply = nextReply(socket);
    await say(socket, 'Hi there');
    await reply;
    const detail = await agent.request<ConversationDetail>('GET', `/conversations/${session.conversationId}`);
    const target = detail.body.messages.find((m) => m.role === role)!;
    const response = await agent.request(
      'PUT',
      `/conversations/${session.conversationId}/messages/${target.id}/rating`,
      body,
    );
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ ok: false, error });
    const again = await agent.request<ConversationDetail>('GET', `/conversations/${session.conversationId}`);
    expect(again.body.messages.every((m) => m.rating === null)).toBe(true);
  });

  it.each([
    ['GET', '/conversations/0123456789abcdef01234567', undefined, 404],
    ['GET', '/conversations/not-an-id', undefined, 404],
    ['GET', '/conversations?mode=everything', undefined, 400],
    [
      'POST',
      '/conversations/0123456789abcdef01234567/messages',
      { text: 'hi', clientMessageId: 'abcdefgh-1' },
      404,
    ],
  ])('answers %s %s with %s', async (method, url, body, status) => {
    expect((await agent.request(method, url, body)).status).toBe(status);
  });
});
