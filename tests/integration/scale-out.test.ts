/**
 * Several chat servers (REDIS_URL): two `parley serve` processes on one MongoDB and one Redis. An
 * agent on one server works a visitor's chat on the other, a promotion through one reaches the
 * other's replies, limits are counted once, and when a server is killed mid-conversation its
 * visitors reconnect through the load balancer to the other and nothing is lost or duplicated.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ObjectId } from 'mongodb';
import type { Connection } from 'mongoose';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.js';
import type { LiveMessage } from '../../server/conversations/live.js';
import { deterministicId } from '../../server/db/ids.js';
import { bindModels, type Models } from '../../server/db/models/index.js';
import { writeTinyCheckpoint } from '../../server/ml/testing/tiny-checkpoint.js';
import { CHATML_TEMPLATE, writeTinyTokenizer } from '../../server/ml/testing/tiny-tokenizer.js';
import type {
  AgentClientToServer,
  AgentServerToClient,
  ConversationSummary,
} from '../../server/realtime/agent/protocol.js';
import { promoteVersion } from '../../server/registry/promote.js';
import type { HealthReport } from '../../server/routes/health/route.js';
import { createSite, type StoredSite } from '../../server/sites/index.js';
import { ApiClient } from '../support/api-client.js';
import { type CliResult, exitOf, startServe } from '../support/cli.js';
import { startTestMongo, type TestMongo } from '../support/mongo.js';
import { cliEnvSharing } from '../support/pipeline.js';
import { ReconnectingVisitor } from '../support/reconnecting-visitor.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { clientMessageId, connectVisitor, nextReply, type VisitorSocket } from '../support/widget-client.js';

const SHOP = 'https://shop.example';
const PASSWORD = 'correct horse battery';
const LOGIN_ATTEMPTS_PER_MINUTE = 4;
type AgentSocket = Socket<AgentServerToClient, AgentClientToServer>;

interface Server {
  name: string;
  child: ChildProcess;
  url: string;
  output: () => CliResult;
}

let mongo: TestMongo;
let connection: Connection;
let models: Models;
let redis: TestRedis;
let root: string;
let shop: StoredSite;
let a: Server;
let b: Server;
let agent: ApiClient;
const sockets: { close(): void }[] = [];

const health = async (url: string) => (await (await fetch(`${url}/healthz`)).json()) as HealthReport;

/** Polls until `check` returns something truthy; on timeout fails with both servers' logs. */
async function eventually(check: () => Promise<unknown> | unknown, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const logs = [a, b].map((s) => `--- ${s.name}:\n${s.output().stdout.slice(-4000)}`);
  throw new Error(`still not true after ${timeout} ms: ${check.toString()}\n${logs.join('\n')}`);
}

beforeAll(async () => {
  [mongo, redis] = await Promise.all([startTestMongo(), startTestRedis()]);
  connection = await mongo.connect();
  models = bindModels(connection);
  root = await mkdtemp(path.join(tmpdir(), 'parley-scale-out-'));
  for (const [i, version] of ['v1', 'v2'].entries()) {
    const dir = path.join(root, 'models', version);
    await writeTinyCheckpoint(dir, { architecture: 'llama', contextLength: 64, seed: 61 + i });
    await writeTinyTokenizer(dir, { chatTemplate: CHATML_TEMPLATE });
    await models.ModelVersion.create({
      _id: deterministicId('model-version', version),
      version,
      artifactPath: dir,
      baseModel: 'none',
    });
  }
  await promoteVersion(models, 'v1', { tolerances: { loss: 0.02, r1: 0.02 }, actor: { kind: 'cli' } });
  shop = await createSite(models, { name: 'shop', origins: [SHOP], handoffThreshold: 0 });
  await createUser(models, { email: 'dana@shop.example', name: 'Dana', role: 'admin', password: PASSWORD });

  const start = async (name: string): Promise<Server> => {
    const started = await startServe({
      ...cliEnvSharing(mongo, connection, path.join(root, name)),
      TFJS_BACKEND: 'wasm',
      PORT: '0',
      LOG_LEVEL: 'info',
      PARLEY_DEMO: 'false',
      PARLEY_BASE_MODEL: path.join(root, 'no-base-model'),
      PARLEY_SERVING_WORKERS: '1',
      // Only Redis tells a server about a promotion made through the other one.
      PARLEY_MODEL_POLL_MS: '0',
      REDIS_URL: redis.url,
      SESSION_SECRET: 'scale-out test secret, the same for every server',
      PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: String(LOGIN_ATTEMPTS_PER_MINUTE),
      PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: '1000',
      PARLEY_WIDGET_MESSAGES_PER_MINUTE: '1000',
    });
    return { name, ...started };
  };
  [a, b] = await Promise.all([start('server-a'), start('server-b')]);
  await eventually(
    async () => (await Promise.all([a, b].map((s) => health(s.url)))).every((h) => h.ready),
    45_000,
  );
  agent = new ApiClient(a.url);
  expect((await agent.login('dana@shop.example', PASSWORD)).status).toBe(200);
}, 90_000);

afterAll(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  const running = [a, b].filter((s) => s && s.child.exitCode === null && s.child.signalCode === null);
  for (const server of running) server.child.kill('SIGTERM');
  await Promise.all(running.map((s) => exitOf(s.child)));
  await redis?.stop();
  await mongo?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const visitOn = async (server: Server, token: string | null = null) => {
  const visitor = await connectVisitor(server.url, { siteKey: shop.publicKey, origin: SHOP, token });
  sockets.push(visitor.socket);
  return visitor;
};
const say = (socket: VisitorSocket, text: string) =>
  socket.emitWithAck('message:send', { clientMessageId: clientMessageId(), text });

describe('two chat servers sharing Redis and MongoDB', () => {
  it('lets an agent on one server watch, take over and answer a visitor chatting on the other', async () => {
    const console_: AgentSocket = io(`${a.url}/agent`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: agent.sessionCookie!, origin: new URL(a.url).origin },
    });
    sockets.push(console_);
    await new Promise<void>((resolve, reject) => {
      console_.once('connect', resolve);
      console_.once('connect_error', reject);
    });
    // Server B learns that an agent is online on A.
    let token: string | null = null;
    await eventually(async () => {
      const { socket, session } = await visitOn(b, token);
      token = session.token;
      socket.close();
      return session.agentsOnline;
    });

    const { socket: visitor, session } = await visitOn(b, token);
    const id = session.conversationId;
    const updated = new Promise<ConversationSummary>((resolve) =>
      console_.on('conversation:updated', (summary) => summary.id === id && resolve(summary)),
    );
    const firstReply = nextReply(visitor);
    expect(await say(visitor, 'Where is my parcel?')).toMatchObject({ ok: true });
    expect(await updated).toMatchObject({ id, mode: 'bot', site: 'shop' });
    await firstReply;

    expect(await console_.emitWithAck('conversation:watch', { conversationId: id })).toEqual({ ok: true });
    const heardByAgent: string[] = [];
    console_.on('message', (event) => heardByAgent.push(`${event.message.role}:${event.message.text}`));
    const botReply = nextReply(visitor);
    await say(visitor, 'It was due on Monday');
    const reply = await botReply;
    await eventually(() => heardByAgent.includes('customer:It was due on Monday'));
    if (reply.message) await eventually(() => heardByAgent.includes(`bot:${reply.message!.text}`));

    const handoff = new Promise((resolve) => visitor.once('handoff', resolve));
    expect((await agent.request('POST', `/conversations/${id}/take-over`, {})).status).toBe(200);
    expect(await handoff).toEqual({ mode: 'human', reason: 'agent', agentsOnline: true });

    const relayed = new Promise((resolve) => visitor.once('message', resolve));
    const sent = await agent.request('POST', `/conversations/${id}/messages`, {
      text: 'Dana here, let me check.',
      clientMessageId: clientMessageId(),
    });
    expect(sent.status).toBe(201);
    expect(await relayed).toMatchObject({
      role: 'agent',
      text: 'Dana here, let me check.',
      authorName: 'Dana',
    });

    let botStarted = false;
    visitor.on('reply:start', () => (botStarted = true));
    await say(visitor, 'Thank you, Dana');
    await eventually(() => heardByAgent.includes('customer:Thank you, Dana'));
    const stored = await models.Conversation.findById(id).lean();
    expect(stored!.status).toBe('human');
    expect(stored!.messages.map((m) => m.role).slice(-2)).toEqual(['agent', 'customer']);
    expect(botStarted).toBe(false);
    console_.close();
  });

  it('counts sign-in attempts once across servers', async () => {
    // One attempt so far (the agent's, on A); the rest alternate between the servers.
    const attempt = (server: Server) =>
      new ApiClient(server.url).login('nobody@shop.example', 'wrong password');
    for (const server of [b, a, b].slice(0, LOGIN_ATTEMPTS_PER_MINUTE - 1))
      expect((await attempt(server)).status).toBe(401);
    // A has seen 3 attempts itself: only the shared count is over the limit.
    expect((await attempt(a)).status).toBe(429);
  });

  it('swaps the other server to a version promoted or rolled back through one', async () => {
    const servedOnB = async () => (await health(b.url)).serving.version;
    const replyVersionOnB = async () => {
      const { socket } = await visitOn(b);
      for (let tries = 0; tries < 5; tries++) {
        const reply = nextReply(socket);
        await say(socket, `Which version are you? (${tries})`);
        const { message } = await reply;
        if (message) {
          const stored = await models.Conversation.findOne({
            'messages._id': new ObjectId(message.id),
          }).lean();
          return stored!.messages.find((m) => m._id.toHexString() === message.id)!.modelVersion;
        }
      }
      throw new Error('five empty replies in a row');
    };
    expect(await replyVersionOnB()).toBe('v1');

    expect((await agent.request('POST', '/versions/v2/promote', {})).status).toBe(200);
    await eventually(async () => (await servedOnB()) === 'v2');
    expect(await replyVersionOnB()).toBe('v2');

    expect((await agent.request('POST', '/versions/rollback', {})).status).toBe(200);
    await eventually(async () => (await servedOnB()) === 'v1');
    expect(await replyVersionOnB()).toBe('v1');
  });

  describe('when a server dies mid-conversation', () => {
    let proxy: TcpProxy;
    afterAll(async () => proxy?.close());

    it('its visitors reconnect to the other server and continue, with no message lost or duplicated', async () => {
      proxy = await startTcpProxy([a.url, b.url]);
      // One after the other, so the proxy puts visitors 0 and 2 on A, 1 and 3 on B.
      const visitors: ReconnectingVisitor[] = [];
      for (let i = 0; i < 4; i++) {
        const visitor = new ReconnectingVisitor(proxy.url, { siteKey: shop.publicKey, origin: SHOP });
        sockets.push(visitor);
        await visitor.connected();
        visitors.push(visitor);
      }
      expect(proxy.routed).toEqual([a.url, b.url, a.url, b.url]);
      const sent = visitors.map(() => [] as string[]);
      const chat = (round: number) =>
        visitors.map((visitor, i) => {
          const id = visitor.say(`Question ${round} from visitor ${i}`);
          sent[i]!.push(id);
          return id;
        });

      await Promise.all(chat(1).map((id, i) => visitors[i]!.answered(id)));
      // A dies as soon as it has stored visitor 0's second question: its reply is under way, and
      // visitor 2's question may be anywhere between sent and answered.
      const second = chat(2);
      await visitors[0]!.until(() => visitors[0]!.stored(second[0]!) !== undefined);
      a.child.kill('SIGKILL');
      await exitOf(a.child);

      await Promise.all(second.map((id, i) => visitors[i]!.answered(id)));
      await Promise.all(chat(3).map((id, i) => visitors[i]!.answered(id)));

      // A's two visitors reconnected (through the proxy, to B); B's never noticed.
      expect(visitors.map((v) => v.sessions)).toEqual([2, 1, 2, 1]);
      for (const [i, visitor] of visitors.entries()) {
        const stored = await models.Conversation.findById(visitor.conversationId).lean();
        const messages = stored!.messages as LiveMessage[];
        // Each question once, in order; never two bot replies to one question.
        expect(messages.filter((m) => m.role === 'customer').map((m) => m.clientMessageId)).toEqual(sent[i]);
        const roles = messages.map((m) => m.role).join(' ');
        expect(roles).not.toContain('bot bot');
        // What the visitor sees is exactly what is stored; nothing arrived twice.
        expect(visitor.timeline.map((m) => m.id)).toEqual(messages.map((m) => m._id.toHexString()));
        expect(new Set(visitor.liveIds).size).toBe(visitor.liveIds.length);
      }
      expect(proxy.routed.slice(4).every((url) => url === b.url)).toBe(true);
    }, 30_000);
  });
});
