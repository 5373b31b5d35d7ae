/**
 * The bad-input sweep over Socket.IO: visitors on /widget and staff consoles on /agent send wrong
 * payload types, no payload, extra arguments, no ack, unknown events, MongoDB operators,
 * prototype-pollution keys, oversize packets and broken Unicode. Each gets an ack error (or, over
 * the packet limit, a closed connection), the socket stays usable, and nothing is stored.
 */
import { ObjectId } from 'mongodb';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { createSite, type StoredSite } from '../../server/sites/index.js';
import { ApiClient } from '../support/api-client.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { snapshotState, stateChanges } from '../support/state-snapshot.js';
import { clientMessageId, connectVisitor, refusalOf } from '../support/widget-client.js';

const PASSWORD = 'correct horse battery';
const SHOP = 'https://shop.example';
const MAX_MESSAGE_CHARS = 500;
const ACK_WAIT_MS = 2000;

/** Built from JSON so the keys are own properties, as a hostile client would send them. */
const fromJson = (text: string) => JSON.parse(text) as Record<string, unknown>;

/** Payloads of the wrong shape for any event. */
const WRONG_PAYLOADS: [string, unknown][] = [
  ['null', null],
  ['a number', 42],
  ['a string', 'hello'],
  ['a boolean', true],
  ['an array', [{ text: 'hello' }]],
  ['an operator object', { $where: 'sleep(1000) || true' }],
  ['a __proto__ key', fromJson('{"__proto__": {"polluted": "yes"}}')],
  ['a constructor.prototype key', { constructor: { prototype: { polluted: 'yes' } } }],
  ['binary', Buffer.from('hello')],
  ['a lone surrogate', '\uD800'],
];

const VALID_ID = 'abcdef12-3456';
/** [event, label, payload]: each must be refused by its schema (the valid base is not sent). */
const FIELD_CASES: [string, string, unknown][] = [
  ...(
    [
      ['clientMessageId a number', { clientMessageId: 42, text: 'hi' }],
      ['clientMessageId null', { clientMessageId: null, text: 'hi' }],
      ['clientMessageId {"$gt": ""}', { clientMessageId: { $gt: '' }, text: 'hi' }],
      ['clientMessageId too short', { clientMessageId: 'abc', text: 'hi' }],
      ['clientMessageId 100 characters', { clientMessageId: 'a'.repeat(100), text: 'hi' }],
      ['clientMessageId with spaces and $', { clientMessageId: 'a b $gt c d', text: 'hi' }],
      ['clientMessageId with a lone surrogate', { clientMessageId: 'abcdefgh\uD800', text: 'hi' }],
      ['no clientMessageId', { text: 'hi' }],
      ['text a number', { clientMessageId: VALID_ID, text: 42 }],
      ['text null', { clientMessageId: VALID_ID, text: null }],
      ['text an array', { clientMessageId: VALID_ID, text: ['hi'] }],
      ['text {"$gt": ""}', { clientMessageId: VALID_ID, text: { $gt: '' } }],
      ['text empty', { clientMessageId: VALID_ID, text: '' }],
      ['text only spaces, a BOM and a newline', { clientMessageId: VALID_ID, text: '  \uFEFF\n ' }],
      ['text one character too long', { clientMessageId: VALID_ID, text: 'x'.repeat(MAX_MESSAGE_CHARS + 1) }],
      [
        'text of emoji one code point too long',
        { clientMessageId: VALID_ID, text: '😀'.repeat(MAX_MESSAGE_CHARS + 1) },
      ],
      ['text with a lone high surrogate', { clientMessageId: VALID_ID, text: 'hello \uD83D world' }],
      ['text with a lone low surrogate', { clientMessageId: VALID_ID, text: '\uDE00' }],
      ['text with reversed surrogates', { clientMessageId: VALID_ID, text: '\uDE00\uD83D' }],
      ['an operator key beside valid fields', { clientMessageId: VALID_ID, text: 'hi', $where: 'x' }],
      [
        'a conversationId beside valid fields',
        { clientMessageId: VALID_ID, text: 'hi', conversationId: 'x' },
      ],
      [
        'a __proto__ key beside valid fields',
        fromJson(`{"clientMessageId":"${VALID_ID}","text":"hi","__proto__":{"x":1}}`),
      ],
    ] as const
  ).map(([label, payload]) => ['message:send', label, payload] as [string, string, unknown]),
  ['handoff:request', 'a field', { reason: 'now' }],
  ['handoff:request', 'an operator key', { $where: 'x' }],
  ['contact:leave', 'no email', {}],
  ['contact:leave', 'email a number', { email: 42 }],
  ['contact:leave', 'email {"$ne": null}', { email: { $ne: null } }],
  ['contact:leave', 'email not an address', { email: 'not an email' }],
  ['contact:leave', 'email 300 characters', { email: `${'a'.repeat(290)}@x.example` }],
  ['contact:leave', 'email with a lone surrogate', { email: 'a\uD800@x.example' }],
  ['contact:leave', 'an extra key', { email: 'a@x.example', admin: true }],
  ['visitor:identify', 'nothing', {}],
  ['visitor:identify', 'name a number', { name: 42 }],
  ['visitor:identify', 'name empty', { name: '  ' }],
  ['visitor:identify', 'name 200 characters', { name: 'n'.repeat(200) }],
  ['visitor:identify', 'name {"$ne": null}', { name: { $ne: null } }],
  ['visitor:identify', 'name with a lone surrogate', { name: 'Ada \uDC00' }],
  ['visitor:identify', 'email not an address', { email: 'nope' }],
  ['visitor:identify', 'a dotted key', { name: 'Ada', 'meta.admin': true }],
];

const WIDGET_EVENTS = ['message:send', 'handoff:request', 'contact:leave', 'visitor:identify'];
const UNKNOWN_EVENTS = [
  'message:delete',
  'conversation:watch',
  'admin:promote',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'e'.repeat(1000),
  'évènement 😀',
];

type Ack = { ok: boolean; error?: string; message?: string };

/** Emits and waits for the ack; 'no ack' when none comes within ACK_WAIT_MS. */
async function ackOf(socket: Socket, event: string, ...args: unknown[]): Promise<Ack | 'no ack'> {
  try {
    return (await socket.timeout(ACK_WAIT_MS).emitWithAck(event, ...args)) as Ack;
  } catch {
    return 'no ack';
  }
}

function problemsWith(ack: Ack | 'no ack', errors: string[]): string[] {
  if (ack === 'no ack') return ['no ack'];
  const problems: string[] = [];
  if (ack.ok !== false) problems.push(`ok ${String(ack.ok)}`);
  if (!errors.includes(String(ack.error))) problems.push(`error ${ack.error}, expected ${errors.join('/')}`);
  if (typeof ack.message !== 'string' || ack.message.length === 0 || ack.message.length > 500)
    problems.push('no readable message');
  if (/\n\s+at |node_modules|\.ts:\d+/.test(String(ack.message))) problems.push('leaks a stack trace');
  return problems;
}

describe('the bad-input sweep over Socket.IO', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;
  let site: StoredSite;
  let staffCookie: string;
  const sockets: Socket[] = [];
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

  const visitor = async () => {
    const { socket, session } = await connectVisitor(running.url, { siteKey: site.publicKey, origin: SHOP });
    sockets.push(socket as unknown as Socket);
    return { socket: socket as unknown as Socket, session };
  };
  const staffSocket = async () => {
    const socket = io(`${running.url}/agent`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: staffCookie, origin: new URL(running.url).origin },
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  };
  /** The socket still answers: an unknown event gets its ack error. */
  const usable = async (socket: Socket) =>
    expect(problemsWith(await ackOf(socket, 'ping:probe', {}), ['invalid_payload'])).toEqual([]);

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    cleanup = dataDir.cleanup;
    running = await startParley(
      testEnv(dataDir.dir, {
        PARLEY_MODEL_POLL_MS: '0',
        PARLEY_WIDGET_MAX_MESSAGE_CHARS: String(MAX_MESSAGE_CHARS),
        PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: '10000',
        PARLEY_WIDGET_MESSAGES_PER_MINUTE: '10000',
        PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '1000',
      }),
    );
    site = await createSite(running.db.models, { name: 'shop', origins: [SHOP] });
    await createUser(running.db.models, {
      email: 'ben@x.example',
      name: 'Ben',
      role: 'agent',
      password: PASSWORD,
    });
    const staff = new ApiClient(running.url);
    expect((await staff.login('ben@x.example', PASSWORD)).status).toBe(200);
    staffCookie = staff.sessionCookie!;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await running?.widget.replies.idle();
    await running?.close();
    await cleanup();
  });

  describe('/widget', () => {
    it.each(WIDGET_EVENTS)(
      '%s: refuses every wrong payload, a missing payload and extra arguments with an ack error',
      async (event) => {
        const { socket } = await visitor();
        const before = await snapshotState(running.db.models);
        const failures: string[] = [];
        const cases: [string, unknown[]][] = [
          ['no payload', []],
          ...WRONG_PAYLOADS.map(([label, payload]) => [label, [payload]] as [string, unknown[]]),
          ['an extra argument', [{}, 'extra']],
        ];
        for (const [label, args] of cases) {
          const problems = problemsWith(await ackOf(socket, event, ...args), ['invalid_payload']);
          if (problems.length) failures.push(`${label}: ${problems.join(', ')}`);
        }
        expect(failures).toEqual([]);
        await usable(socket);
        expect(stateChanges(before, await snapshotState(running.db.models))).toEqual([]);
      },
    );

    it(`refuses ${FIELD_CASES.length} payloads with bad fields, operators and broken Unicode, and stores nothing`, async () => {
      const { socket } = await visitor();
      const before = await snapshotState(running.db.models);
      const failures: string[] = [];
      for (const [event, label, payload] of FIELD_CASES) {
        const expected = /too long/.test(label) ? ['message_too_long'] : ['invalid_payload'];
        const problems = problemsWith(await ackOf(socket, event, payload), expected);
        if (problems.length) failures.push(`${event} ${label}: ${problems.join(', ')}`);
      }
      expect(failures).toEqual([]);
      await usable(socket);
      expect(stateChanges(before, await snapshotState(running.db.models))).toEqual([]);
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers unknown events with an ack error, and bad payloads sent without an ack break nothing', async () => {
      const { socket } = await visitor();
      const before = await snapshotState(running.db.models);
      const failures: string[] = [];
      for (const event of UNKNOWN_EVENTS) {
        const problems = problemsWith(await ackOf(socket, event, { text: 'hi' }), ['invalid_payload']);
        if (problems.length) failures.push(`${event.slice(0, 20)}: ${problems.join(', ')}`);
      }
      expect(failures).toEqual([]);
      for (const [event, , payload] of FIELD_CASES) socket.emit(event, payload);
      for (const event of WIDGET_EVENTS)
        for (const [, payload] of WRONG_PAYLOADS) socket.emit(event, payload);
      await usable(socket);
      expect(socket.connected).toBe(true);
      expect(stateChanges(before, await snapshotState(running.db.models))).toEqual([]);
    });

    it('closes the connection of a packet over the 64 KB limit, stores nothing, and serves the next visitor', async () => {
      const { socket } = await visitor();
      const before = await snapshotState(running.db.models);
      const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      socket.emit('message:send', { clientMessageId: clientMessageId(), text: 'x'.repeat(70_000) });
      expect(await closed).toMatch(/transport (close|error)/);
      expect(stateChanges(before, await snapshotState(running.db.models))).toEqual([]);
      const next = await visitor();
      await usable(next.socket);
    });

    it.each<[string, Record<string, unknown>, string, RegExp]>([
      ['a site key of the wrong type', { siteKey: 42 }, 'missing_site_key', /without a site key/],
      ['an operator for the site key', { siteKey: { $gt: '' } }, 'missing_site_key', /without a site key/],
      ['a site key with a lone surrogate', { siteKey: 'pk_\uD800' }, 'unknown_site_key', /not known/],
      ['a 500-character site key', { siteKey: 'k'.repeat(500) }, 'invalid_handshake', /siteKey/],
      ['an unknown site key', { siteKey: 'pk_unknown' }, 'unknown_site_key', /not known/],
      [
        'an operator for the token',
        { siteKey: 'pk_unknown', token: { $ne: null } },
        'invalid_handshake',
        /token/,
      ],
      [
        'locales that are not a list',
        { siteKey: 'pk_unknown', locales: 'en' },
        'invalid_handshake',
        /locales/,
      ],
      [
        'too many locales',
        { siteKey: 'pk_unknown', locales: Array(50).fill('en') },
        'invalid_handshake',
        /locales/,
      ],
    ])(
      'refuses a handshake with %s, clearly and without opening a conversation',
      async (_label, auth, code, message) => {
        const before = await snapshotState(running.db.models);
        const socket = io(`${running.url}/widget`, {
          auth,
          extraHeaders: { origin: SHOP },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
        });
        sockets.push(socket);
        const refused = await refusalOf(socket as never);
        expect(refused.code).toBe(code);
        expect(refused.message).toMatch(message);
        expect(stateChanges(before, await snapshotState(running.db.models))).toEqual([]);
      },
    );

    // Decided: well-formed Unicode, however unusual, is stored and echoed exactly (trimmed, like
    // any message); a lone surrogate is refused (above), since MongoDB would keep U+FFFD instead.
    it.each<[string, string]>([
      ['a byte-order mark inside', 'a\uFEFFb'],
      ['an RTL override', 'pay \u202Eexe.txt'],
      ['stacked combining marks', `Z${'\u0336\u0301'.repeat(30)}`],
      ['4-byte emoji and a ZWJ family', '👩‍👩‍👧‍👦 🚀 𝕏'],
      ['NUL and control characters', 'a\u0000b\u0007c'],
      ['exactly the longest message, in emoji', '😀'.repeat(MAX_MESSAGE_CHARS)],
    ])('stores and echoes a visitor message with %s exactly', async (_label, text) => {
      const { socket } = await visitor();
      const id = clientMessageId();
      const ack = (await ackOf(socket, 'message:send', { clientMessageId: id, text })) as Ack & {
        message: { text: string };
      };
      expect(ack).toMatchObject({ ok: true, duplicate: false });
      expect(ack.message.text).toBe(text.trim());
      const stored = await running.db.models.Conversation.findOne({ 'messages.clientMessageId': id }).lean();
      expect(stored!.messages.find((m) => m.clientMessageId === id)!.text).toBe(text.trim());
    });
  });

  describe('/agent', () => {
    const WATCH_CASES: [string, unknown[], string[]][] = [
      ['no payload', [], ['invalid_payload']],
      ...WRONG_PAYLOADS.map(
        ([label, payload]) => [label, [payload], ['invalid_payload']] as [string, unknown[], string[]],
      ),
      ['an empty object', [{}], ['invalid_payload']],
      ['conversationId a number', [{ conversationId: 42 }], ['invalid_payload']],
      ['conversationId {"$gt": ""}', [{ conversationId: { $gt: '' } }], ['invalid_payload']],
      ['conversationId {"$ne": null}', [{ conversationId: { $ne: null } }], ['invalid_payload']],
      ['conversationId an array', [{ conversationId: [new ObjectId().toHexString()] }], ['invalid_payload']],
      ['conversationId a word', [{ conversationId: 'nope' }], ['invalid_payload']],
      [
        'conversationId upper-case hex',
        [{ conversationId: 'ABCDEF0123456789ABCDEF01' }],
        ['invalid_payload'],
      ],
      [
        'conversationId with a lone surrogate',
        [{ conversationId: `${'a'.repeat(23)}\uD800` }],
        ['invalid_payload'],
      ],
      [
        'conversationId that does not exist',
        [{ conversationId: new ObjectId().toHexString() }],
        ['conversation_not_found'],
      ],
      ['an extra argument', [{ conversationId: null }, 'extra'], ['invalid_payload']],
    ];

    it(`conversation:watch: refuses ${WATCH_CASES.length} bad payloads with an ack error, and stays usable`, async () => {
      const socket = await staffSocket();
      const before = await snapshotState(running.db.models);
      const failures: string[] = [];
      for (const [label, args, errors] of WATCH_CASES) {
        const problems = problemsWith(await ackOf(socket, 'conversation:watch', ...args), errors);
        if (problems.length) failures.push(`${label}: ${problems.join(', ')}`);
      }
      expect(failures).toEqual([]);
      expect(await ackOf(socket, 'conversation:watch', { conversationId: null })).toEqual({ ok: true });
      expect(stateChanges(before, await snapshotState(running.db.models))).toEqual([]);
    });

    it('answers unknown events (inherited names included) with an ack error; payloads without an ack break nothing', async () => {
      const socket = await staffSocket();
      const before = await snapshotState(running.db.models);
      const failures: string[] = [];
      for (const event of UNKNOWN_EVENTS.filter((e) => e !== 'conversation:watch')) {
        const problems = problemsWith(await ackOf(socket, event, {}), ['invalid_payload']);
        if (problems.length) failures.push(`${event.slice(0, 20)}: ${problems.join(', ')}`);
      }
      expect(failures).toEqual([]);
      for (const [, args] of WATCH_CASES) socket.emit('conversation:watch', ...args);
      await usable(socket);
      expect(stateChanges(before, await snapshotState(running.db.models))).toEqual([]);
    });

    it('closes the connection of a packet over the 64 KB limit', async () => {
      const socket = await staffSocket();
      const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      socket.emit('conversation:watch', { conversationId: 'a'.repeat(70_000) });
      expect(await closed).toMatch(/transport (close|error)/);
      await usable(await staffSocket());
    });
  });
});
