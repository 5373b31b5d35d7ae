/**
 * The widget's Socket.IO namespace with real clients on port 0, against Parley serving the
 * shipped starter model: keys and origins, streaming, idempotent resends, reconnects, handoff,
 * isolation between visitors, limits and malformed payloads.
 */
import path from 'node:path';
import { ObjectId } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sendAgentMessage, takeOver } from '../../server/conversations/handoff.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { verifyVisitorToken } from '../../server/realtime/widget/visitor-token.js';
import { createSite, type StoredSite } from '../../server/sites/index.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { waitForModel } from '../support/serving.js';
import {
  clientMessageId,
  connectVisitor,
  nextReply,
  refusalOf,
  type VisitorSocket,
  visitorSocket,
} from '../support/widget-client.js';

const SHOP = 'https://shop.example';
const sockets: VisitorSocket[] = [];
const track = <T extends { socket: VisitorSocket }>(connected: T) => {
  sockets.push(connected.socket);
  return connected;
};
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

const storedMessages = async (running: RunningParley, conversationId: string) =>
  (await running.db.models.Conversation.findById(conversationId).lean())!.messages;

describe('the widget namespace, serving the starter model', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;
  let shop: StoredSite;
  let other: StoredSite;

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    cleanup = dataDir.cleanup;
    running = await startParley(
      testEnv(dataDir.dir, {
        PARLEY_BASE_MODEL: path.join(dataDir.dir, 'models', 'starter'),
        PARLEY_SERVING_WORKERS: '1',
        PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: '1000',
        PARLEY_WIDGET_MESSAGES_PER_MINUTE: '1000',
      }),
    );
    shop = await createSite(running.db.models, {
      name: 'shop',
      origins: [SHOP],
      texts: { fr: { title: 'Parlez à Boutique' } },
    });
    other = await createSite(running.db.models, { name: 'other', origins: ['https://other.example'] });
    await waitForModel(running);
  });
  afterAll(async () => {
    await running.widget.replies.idle();
    await running.close();
    await cleanup();
  });

  const visit = (options: { token?: string | null; locales?: string[]; site?: StoredSite } = {}) =>
    connectVisitor(running.url, {
      siteKey: (options.site ?? shop).publicKey,
      origin: options.site === other ? 'https://other.example' : SHOP,
      token: options.token ?? null,
      ...(options.locales ? { locales: options.locales } : {}),
    }).then(track);

  const send = (socket: VisitorSocket, text: string, id = clientMessageId()) =>
    socket.emitWithAck('message:send', { clientMessageId: id, text });

  it.each([
    ['no site key', { siteKey: '' }, SHOP, 'missing_site_key', /without a site key/],
    ['an unknown site key', { siteKey: 'pk_unknown' }, SHOP, 'unknown_site_key', /not known/],
    ['a page on another origin', {}, 'https://evil.example', 'origin_not_allowed', /evil\.example/],
    ['a page without an Origin header', {}, undefined, 'origin_not_allowed', /without an origin/],
  ])('refuses %s, saying why', async (_case, auth, origin, code, message) => {
    const socket = visitorSocket(running.url, {
      siteKey: shop.publicKey,
      ...auth,
      ...(origin ? { origin } : {}),
    });
    sockets.push(socket);
    const refusal = await refusalOf(socket);
    expect(refusal.code).toBe(code);
    expect(refusal.message).toMatch(message);
  });

  it("answers a site's launcher look for the visitor's languages to any origin, and 404 for an unknown key", async () => {
    const look = await fetch(`${running.url}/widget/look?key=${shop.publicKey}&locales=fr-CA,en`);
    expect(look.status).toBe(200);
    expect(look.headers.get('access-control-allow-origin')).toBe('*');
    expect(await look.json()).toMatchObject({
      locale: 'fr',
      theme: { position: 'right' },
      texts: { title: 'Parlez à Boutique', askForPerson: 'Parler à une personne' },
    });
    const unknown = await fetch(`${running.url}/widget/look?key=pk_nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ ok: false, error: 'unknown_site_key' });
    expect((await fetch(`${running.url}/widget/look`)).status).toBe(400);
  });

  it('gives a new visitor a signed token, the site look and texts in their language, and an empty conversation', async () => {
    const { session } = await visit({ locales: ['fr-CA', 'en'] });
    expect(verifyVisitorToken(running.sessionSecret, session.token, shop._id.toHexString())).not.toBeNull();
    expect(session).toMatchObject({ mode: 'bot', handoffReason: null, agentsOnline: false, messages: [] });
    expect(session.site.locale).toBe('fr');
    expect(session.site.texts.title).toBe('Parlez à Boutique');
    expect(session.site.texts.send).toBe('Envoyer');
    expect(session.site.theme.position).toBe('right');
    expect(session.site.maxMessageChars).toBe(2000);
  });

  it('streams the bot reply token by token and stores it with the version that wrote it and its confidence', async () => {
    const { socket, session } = await visit();
    const reply = nextReply(socket);
    const ack = await send(socket, 'Hi, I would like to check my account balance');
    expect(ack).toMatchObject({ ok: true, duplicate: false, message: { role: 'customer' } });
    const { started, streamed, message } = await reply;
    expect(started).toBe(true);
    expect(message).toMatchObject({ role: 'bot' });
    expect(streamed.trim()).toBe(message!.text);
    expect(message!.text.length).toBeGreaterThan(0);

    const stored = await storedMessages(running, session.conversationId);
    expect(stored.map((m) => m.role)).toEqual(['customer', 'bot']);
    expect(stored[1]).toMatchObject({ modelVersion: 'v1', text: message!.text });
    expect(stored[1]!.confidence).toBeGreaterThan(0);
    expect(stored[1]!.confidence).toBeLessThanOrEqual(1);
  });

  it('stores a resent message once and answers it once', async () => {
    const { socket, session } = await visit();
    const id = clientMessageId();
    const replies: unknown[] = [];
    socket.on('reply:end', (event) => replies.push(event));
    const first = await send(socket, 'Where is my order?', id);
    const again = await send(socket, 'Where is my order?', id);
    expect(first).toMatchObject({ ok: true, duplicate: false });
    expect(again).toMatchObject({ ok: true, duplicate: true });
    expect(again.ok && first.ok && again.message.id === first.message.id).toBe(true);
    await running.widget.replies.idle();
    const stored = await storedMessages(running, session.conversationId);
    expect(stored.filter((m) => m.role === 'customer')).toHaveLength(1);
    expect(stored.filter((m) => m.role === 'bot')).toHaveLength(1);
    expect(replies).toHaveLength(1);
  });

  it('resumes the same conversation with its history when the visitor comes back with the token', async () => {
    const first = await visit();
    const reply = nextReply(first.socket);
    await send(first.socket, 'Can I change my booking?');
    await reply;
    first.socket.close();

    const { session } = await visit({ token: first.session.token });
    expect(session.conversationId).toBe(first.session.conversationId);
    expect(session.messages.map((m) => m.role)).toEqual(['customer', 'bot']);
    expect(session.messages[0]!.text).toBe('Can I change my booking?');
  });

  it.each([
    ['a forged token', (token: string) => `${token.slice(0, -4)}AAAA`],
    [
      'a token for another visitor id with a reused signature',
      (token: string) => token.replace(/^v1\.(\w+)\.[\w-]+\./, 'v1.$1.AAAAAAAAAAAAAAAAAAAAAA.'),
    ],
    ['garbage', () => 'not-a-token'],
  ])('gives a visitor with %s a new conversation', async (_case, tamper) => {
    const first = await visit();
    await send(first.socket, 'My secret question');
    const { session } = await visit({ token: tamper(first.session.token) });
    expect(session.conversationId).not.toBe(first.session.conversationId);
    expect(session.messages).toEqual([]);
  });

  it("does not let one site's token open a conversation on another site", async () => {
    const onShop = await visit();
    await send(onShop.socket, 'hello from the shop');
    const { session } = await visit({ site: other, token: onShop.session.token });
    expect(session.conversationId).not.toBe(onShop.session.conversationId);
    expect(session.messages).toEqual([]);
  });

  it("keeps visitors apart: nobody receives another visitor's messages, replies or handoffs", async () => {
    const alice = await visit();
    const bob = await visit();
    const heardByBob: string[] = [];
    for (const event of ['message', 'reply:start', 'reply:token', 'reply:end', 'handoff'] as const)
      bob.socket.on(event, () => heardByBob.push(event));
    const reply = nextReply(alice.socket);
    await send(alice.socket, 'I lost my card');
    await reply;
    await send(alice.socket, 'talk to a human');
    await new Promise((r) => setTimeout(r, 200));
    expect(heardByBob).toEqual([]);
    expect(bob.session.conversationId).not.toBe(alice.session.conversationId);
  });

  it("shows a visitor's message in their other tabs", async () => {
    const tab1 = await visit();
    const tab2 = await visit({ token: tab1.session.token });
    expect(tab2.session.conversationId).toBe(tab1.session.conversationId);
    const seen = new Promise((resolve) => tab2.socket.once('message', resolve));
    const ack = await send(tab1.socket, 'sent from tab one');
    expect(await seen).toEqual(ack.ok && ack.message);
  });

  describe('handoff', () => {
    it.each([
      'I want to talk to a human',
      'agent please',
      'Quiero hablar con una persona',
      'je voudrais parler à un conseiller',
    ])('"%s" stops the bot and tells the visitor that no agent is online', async (text) => {
      const { socket, session } = await visit();
      const started: unknown[] = [];
      socket.on('reply:start', (event) => started.push(event));
      const handoff = new Promise((resolve) => socket.once('handoff', resolve));
      await send(socket, text);
      expect(await handoff).toEqual({ mode: 'waiting', reason: 'requested', agentsOnline: false });

      await send(socket, 'hello?');
      await running.widget.replies.idle();
      expect(started).toEqual([]);
      const stored = await running.db.models.Conversation.findById(session.conversationId).lean();
      expect(stored!.status).toBe('waiting');
      expect(stored!.messages.map((m) => m.role)).toEqual(['customer', 'customer']);
    });

    it('says an agent is online when one is', async () => {
      running.conversations.presence.connected('agent-1');
      try {
        const { socket } = await visit();
        const ack = await socket.emitWithAck('handoff:request', {});
        expect(ack).toEqual({
          ok: true,
          state: { mode: 'waiting', reason: 'requested', agentsOnline: true },
        });
      } finally {
        running.conversations.presence.disconnected('agent-1');
      }
    });

    it("hands over after a reply less confident than the site's threshold", async () => {
      const picky = await createSite(running.db.models, {
        name: 'picky',
        origins: [SHOP],
        handoffThreshold: 1,
      });
      const { socket } = await visit({ site: picky });
      const reply = nextReply(socket);
      const handoff = new Promise((resolve) => socket.once('handoff', resolve));
      await send(socket, 'What are your opening hours?');
      expect((await reply).message).toMatchObject({ role: 'bot' });
      expect(await handoff).toEqual({ mode: 'waiting', reason: 'low_confidence', agentsOnline: false });
    });

    it("tells the visitor when an agent takes over, then relays the agent's replies", async () => {
      const { socket, session } = await visit();
      await send(socket, 'hello');
      await running.widget.replies.idle();
      const conversation = { _id: new ObjectId(session.conversationId), siteId: shop._id };
      const deps = { models: running.db.models, events: running.conversations.events };

      const handoff = new Promise((resolve) => socket.once('handoff', resolve));
      await takeOver(deps, conversation);
      expect(await handoff).toEqual({ mode: 'human', reason: 'agent', agentsOnline: false });

      const relayed = new Promise((resolve) => socket.once('message', resolve));
      await sendAgentMessage(
        deps,
        conversation,
        { id: new ObjectId(), name: 'Dana' },
        'Hi, Dana here.',
        new ObjectId(),
      );
      expect(await relayed).toMatchObject({ role: 'agent', text: 'Hi, Dana here.', authorName: 'Dana' });

      const started: unknown[] = [];
      socket.on('reply:start', (event) => started.push(event));
      await send(socket, 'thanks Dana');
      await running.widget.replies.idle();
      expect(started).toEqual([]);
    });
  });

  describe('bad input', () => {
    it.each([
      ['text of the wrong type', 'message:send', { clientMessageId: 'abcdefgh-1', text: 42 }],
      ['no client message id', 'message:send', { text: 'hi' }],
      ['a client message id with operators', 'message:send', { clientMessageId: { $ne: null }, text: 'hi' }],
      ['extra fields', 'message:send', { clientMessageId: 'abcdefgh-2', text: 'hi', role: 'agent' }],
      ['only whitespace', 'message:send', { clientMessageId: 'abcdefgh-3', text: ' \n\t ' }],
      ['a payload that is not an object', 'message:send', 'hello'],
      ['a bad email', 'contact:leave', { email: 'not an email' }],
      ['identify without anything', 'visitor:identify', {}],
      ['an unknown event', 'conversation:join', { conversationId: '0123456789abcdef01234567' }],
    ])('rejects %s with an ack error and stores nothing', async (_case, event, payload) => {
      const { socket, session } = await visit();
      const ack = await (socket as unknown as import('socket.io-client').Socket).emitWithAck(event, payload);
      expect(ack).toMatchObject({ ok: false, error: 'invalid_payload' });
      expect(typeof ack.message).toBe('string');
      expect(await storedMessages(running, session.conversationId)).toEqual([]);
      expect(
        await running.db.models.VisitorContact.countDocuments({
          conversationId: new ObjectId(session.conversationId),
        }),
      ).toBe(0);
    });

    it('refuses a message over the size limit, saying the limit', async () => {
      const { socket, session } = await visit();
      const ack = await send(socket, 'x'.repeat(2001));
      expect(ack).toMatchObject({ ok: false, error: 'message_too_long' });
      expect(!ack.ok && ack.message).toMatch(/2000 characters/);
      expect(await storedMessages(running, session.conversationId)).toEqual([]);
    });

    it('keeps HTML in a message as text, exactly as typed', async () => {
      const { socket } = await visit();
      const text = '<img src=x onerror="alert(1)"> <b>bold</b> &amp;';
      const ack = await send(socket, text);
      expect(ack).toMatchObject({ ok: true, message: { text } });
    });
  });

  it('keeps an email left for a reply apart from the conversation text', async () => {
    const { socket, session } = await visit();
    await send(socket, 'talk to someone');
    expect(await socket.emitWithAck('contact:leave', { email: 'visitor@example.com' })).toEqual({ ok: true });
    const contact = await running.db.models.VisitorContact.findOne({
      conversationId: new ObjectId(session.conversationId),
    }).lean();
    expect(contact).toMatchObject({ kind: 'leave-email', email: 'visitor@example.com' });
    const stored = await storedMessages(running, session.conversationId);
    expect(JSON.stringify(stored)).not.toContain('visitor@example.com');
  });
});

describe('the widget namespace, with tight limits and no model', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;
  let shop: StoredSite;

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    cleanup = dataDir.cleanup;
    running = await startParley(
      testEnv(dataDir.dir, {
        PARLEY_WIDGET_MESSAGES_PER_MINUTE: '3',
        PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: '6',
        PARLEY_WIDGET_MAX_MESSAGE_CHARS: '40',
      }),
    );
    shop = await createSite(running.db.models, { name: 'shop', origins: [SHOP] });
  });
  afterAll(async () => {
    await running.widget.replies.idle();
    await running.close();
    await cleanup();
  });

  it('hands the chat to a person when no model can answer', async () => {
    const { socket } = track(await connectVisitor(running.url, { siteKey: shop.publicKey, origin: SHOP }));
    const reply = nextReply(socket);
    const handoff = new Promise((resolve) => socket.once('handoff', resolve));
    await socket.emitWithAck('message:send', { clientMessageId: clientMessageId(), text: 'hello' });
    expect((await reply).message).toBeNull();
    expect(await handoff).toEqual({ mode: 'waiting', reason: 'bot_unavailable', agentsOnline: false });
  });

  it('tells the widget its message limit and refuses longer messages', async () => {
    const { socket, session } = track(
      await connectVisitor(running.url, { siteKey: shop.publicKey, origin: SHOP }),
    );
    expect(session.site.maxMessageChars).toBe(40);
    const ack = await socket.emitWithAck('message:send', {
      clientMessageId: clientMessageId(),
      text: 'y'.repeat(41),
    });
    expect(ack).toMatchObject({ ok: false, error: 'message_too_long' });
  });

  it('refuses messages past the per-visitor rate with a clear error and stores none of them', async () => {
    const { socket, session } = track(
      await connectVisitor(running.url, { siteKey: shop.publicKey, origin: SHOP }),
    );
    const acks = [];
    for (let i = 0; i < 5; i++)
      acks.push(
        await socket.emitWithAck('message:send', {
          clientMessageId: clientMessageId(),
          text: `message ${i}`,
        }),
      );
    expect(acks.map((ack) => ack.ok)).toEqual([true, true, true, false, false]);
    expect(acks[3]).toMatchObject({ ok: false, error: 'rate_limited' });
    expect(!acks[3]!.ok && acks[3]!.message).toMatch(/wait \d+ seconds/);
    await running.widget.replies.idle();
    const stored = await storedMessages(running, session.conversationId);
    expect(stored.filter((m) => m.role === 'customer').map((m) => m.text)).toEqual([
      'message 0',
      'message 1',
      'message 2',
    ]);
  });

  it('refuses connections past the per-IP rate', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const socket = visitorSocket(running.url, { siteKey: shop.publicKey, origin: SHOP });
      sockets.push(socket);
      const outcome = await new Promise<string>((resolve) => {
        socket.once('session', () => resolve('connected'));
        socket.once('connect_error', (error) =>
          resolve((error as Error & { data?: { code?: string } }).data?.code ?? error.message),
        );
      });
      outcomes.push(outcome);
    }
    expect(outcomes.at(-1)).toBe('rate_limited');
    expect(outcomes.filter((o) => o === 'connected').length).toBeLessThanOrEqual(6);
  });
});
