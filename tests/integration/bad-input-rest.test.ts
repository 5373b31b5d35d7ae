/**
 * The bad-input sweep over REST: every endpoint that takes input, called as a signed-in admin with
 * the CSRF token, with oversize bodies, wrong types, MongoDB operators, prototype-pollution keys,
 * bad ids in paths, bad query values and broken Unicode. Each gets a 4xx with a readable JSON
 * error, and the database (audit log included) is the same afterwards. The table is checked
 * against the routes Express has, so a new endpoint cannot be left out.
 */
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { CSRF_HEADER } from '../../server/realtime/agent/protocol.js';
import { createSite } from '../../server/sites/index.js';
import { ApiClient } from '../support/api-client.js';
import { tempDataDir, testEnv } from '../support/env.js';
import { snapshotState, stateChanges } from '../support/state-snapshot.js';
import { connectVisitor } from '../support/widget-client.js';

const PASSWORD = 'correct horse battery';
const SHOP = 'https://shop.example';
const MISSING_ID = new ObjectId().toHexString();

type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'date';

/** Values of the wrong type (or out of any range the API allows) for a field of each kind. */
const WRONG: Record<FieldKind, [string, unknown][]> = {
  string: [
    ['a number', 42],
    ['a boolean', true],
    ['null', null],
    ['an array', ['x']],
    ['an object', {}],
    ['{"$gt": ""}', { $gt: '' }],
    ['{"$regex": ".*"}', { $regex: '.*' }],
    ['{"$where": ...}', { $where: 'sleep(1000) || true' }],
    ['a 30 000-character string', 'x'.repeat(30_000)],
    ['a lone high surrogate', 'ab\uD800cd'],
    ['a lone low surrogate', '\uDC00'],
    ['surrogates in the wrong order', '\uDC00\uD800'],
  ],
  number: [
    ['a numeric string', '1'],
    ['a boolean', true],
    ['null', null],
    ['an array', [1]],
    ['{"$gt": 0}', { $gt: 0 }],
    ['a huge number', 1e308],
    ['a negative number', -1],
  ],
  integer: [
    ['a numeric string', '1'],
    ['a boolean', true],
    ['null', null],
    ['an array', [1]],
    ['{"$gt": 0}', { $gt: 0 }],
    ['a fraction', 1.5],
    ['a huge number', 1e308],
    ['a negative number', -1],
  ],
  boolean: [
    ['a string', 'true'],
    ['a number', 1],
    ['null', null],
    ['{"$ne": false}', { $ne: false }],
  ],
  object: [
    ['a string', 'x'],
    ['a number', 1],
    ['an array', []],
    ['{"$where": ...}', { $where: 'sleep(1000)' }],
    ['a key with a dot', { 'a.b': 'x' }],
  ],
  array: [
    ['a string', 'x'],
    ['a number', 1],
    ['null', null],
    ['an object', {}],
    ['[{"$gt": ""}]', [{ $gt: '' }]],
    ['[42]', [42]],
    ['a lone surrogate inside', ['\uD800']],
  ],
  date: [
    ['a number', 42],
    ['a boolean', true],
    ['null', null],
    ['an array', []],
    ['an object', {}],
    ['{"$gt": ""}', { $gt: '' }],
    ['not a date', 'next tuesday'],
  ],
};

/** Path parameters that name nothing, or nothing sensible. */
const BAD_PARAMS: [string, string][] = [
  ['a word', 'nope'],
  ['zero', '0'],
  ['an id that does not exist', MISSING_ID],
  ['"$gt"', '%24gt'],
  ['{"$gt":""}', encodeURIComponent('{"$gt":""}')],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['a 2000-character value', 'x'.repeat(2000)],
  ['NUL', '%00'],
  ['an RTL override', '%E2%80%AEevil'],
  ['a 4-byte emoji', '%F0%9F%98%80'],
  ['a UTF-8 encoded surrogate', '%ED%A0%80'],
  ['a byte that is not UTF-8', '%FF'],
  ['a truncated escape', '%E2%80'],
  ['a path escape', '..%2F..%2Fetc%2Fpasswd'],
];

type QueryKind = 'integer' | 'string' | 'enum';
const BAD_QUERY: Record<QueryKind, [string, string][]> = {
  integer: [
    ['letters', 'abc'],
    ['empty', ''],
    ['zero', '0'],
    ['negative', '-1'],
    ['a fraction', '1.5'],
    ['too large', '1000000000'],
    ['twice', '1&{name}=2'],
  ],
  string: [
    ['5000 characters', 'x'.repeat(5000)],
    ['twice', 'a&{name}=b'],
  ],
  enum: [
    ['an unknown value', 'nonsense'],
    ['"$ne"', '%24ne'],
    ['empty', ''],
    ['twice', 'a&{name}=b'],
  ],
};

interface Row {
  /** As Express registered it, e.g. "put /conversations/:id/messages/:messageId/rating". */
  route: string;
  /** Concrete values for the path's parameters (each also swept with BAD_PARAMS). */
  params?: Record<string, string>;
  /** A body that passes validation and then fails on its target (so a refusal must come from validation). */
  body?: Record<string, unknown>;
  fields?: Record<string, FieldKind>;
  query?: Record<string, QueryKind>;
}

/** Every /api endpoint: what input it takes. A row without body, fields or query takes none. */
const ROWS: Row[] = [
  { route: 'get /auth/session' },
  {
    route: 'post /auth/login',
    body: { email: 'nobody@x.example', password: 'not the password' },
    fields: { email: 'string', password: 'string' },
  },
  // Signing out would end the admin's session for the rest of the sweep; it takes no input.
  { route: 'post /auth/logout' },
  {
    route: 'get /conversations',
    query: { mode: 'enum', q: 'string', limit: 'integer' },
  },
  { route: 'get /conversations/:id', params: { id: MISSING_ID } },
  { route: 'post /conversations/:id/take-over', params: { id: MISSING_ID }, body: {} },
  { route: 'post /conversations/:id/hand-back', params: { id: MISSING_ID }, body: {} },
  { route: 'post /conversations/:id/close', params: { id: MISSING_ID }, body: {} },
  {
    route: 'post /conversations/:id/messages',
    params: { id: MISSING_ID },
    body: { text: 'hello', clientMessageId: 'client-msg-1' },
    fields: { text: 'string', clientMessageId: 'string' },
  },
  {
    route: 'put /conversations/:id/messages/:messageId/rating',
    params: { id: MISSING_ID, messageId: MISSING_ID },
    body: { value: 'corrected', reasons: ['wrong'], correction: 'Better.' },
    fields: { value: 'string', reasons: 'array', correction: 'string' },
  },
  { route: 'get /review-queue', query: { order: 'enum', limit: 'integer' } },
  { route: 'get /users' },
  {
    route: 'post /users',
    body: { email: 'new@x.example', name: 'New', role: 'agent', password: PASSWORD },
    fields: { email: 'string', name: 'string', role: 'string', password: 'string' },
  },
  {
    route: 'patch /users/:id',
    params: { id: MISSING_ID },
    body: { name: 'Renamed', role: 'agent', disabled: false },
    fields: { name: 'string', role: 'string', disabled: 'boolean' },
  },
  { route: 'get /audit', query: { limit: 'integer', action: 'string' } },
  { route: 'get /versions' },
  { route: 'get /versions/:id', params: { id: 'v404' } },
  {
    route: 'post /versions/:id/promote',
    params: { id: 'v404' },
    body: { override: 'a reason long enough' },
    fields: { override: 'string' },
  },
  // No version is active, so there is nothing to roll back to: a 409 whatever the body.
  { route: 'post /versions/rollback', body: {} },
  { route: 'get /sites' },
  {
    route: 'post /sites',
    body: { name: 'blog', origins: ['https://blog.example'], handoffThreshold: 0.5 },
    fields: {
      name: 'string',
      origins: 'array',
      theme: 'object',
      texts: 'object',
      defaultLocale: 'string',
      handoffThreshold: 'number',
    },
  },
  {
    route: 'patch /sites/:name',
    params: { name: 'no-such-site' },
    body: { origins: ['https://blog.example'] },
    fields: {
      origins: 'array',
      theme: 'object',
      texts: 'object',
      defaultLocale: 'string',
      handoffThreshold: 'number',
    },
  },
  { route: 'get /sources' },
  { route: 'get /sources/:name/runs', params: { name: 'no-such-source' }, query: { limit: 'integer' } },
  { route: 'get /sources/:name/quarantine', params: { name: 'no-such-source' }, query: { limit: 'integer' } },
  { route: 'get /datasets' },
  { route: 'get /privacy' },
  { route: 'get /training-jobs', query: { limit: 'integer' } },
  { route: 'get /training-jobs/:id', params: { id: MISSING_ID } },
  { route: 'post /training-jobs/:id/cancel', params: { id: MISSING_ID }, body: {} },
  { route: 'post /sources/:name/ingest', params: { name: 'no-such-source' }, body: {} },
  {
    route: 'post /datasets',
    body: { sources: ['no-such-source'], since: '2024-01-01T00:00:00Z', validationPercent: 10 },
    fields: { sources: 'array', since: 'date', until: 'date', validationPercent: 'integer' },
  },
  {
    route: 'post /training-jobs',
    body: { datasetId: MISSING_ID, mode: 'lora', epochs: 1, dp: { targetEpsilon: 8 } },
    fields: {
      datasetId: 'string',
      mode: 'string',
      epochs: 'integer',
      learningRate: 'number',
      batchSize: 'integer',
      loraRank: 'integer',
      seed: 'integer',
      dp: 'object',
    },
  },
  {
    route: 'post /sources/test',
    // "self" is Parley's own database: answered without a connection, so nothing leaves loopback.
    body: { uri: 'self', database: 'logs', collection: 'messages' },
    fields: { uri: 'string', database: 'string', collection: 'string' },
  },
  {
    route: 'post /sources',
    body: {
      name: 'logs',
      uri: 'self',
      database: 'logs',
      collection: 'messages',
      mapping: 'helpdesk-messages',
    },
    fields: { name: 'string', uri: 'string', database: 'string', collection: 'string', mapping: 'object' },
  },
  {
    route: 'patch /sources/:name',
    params: { name: 'no-such-source' },
    body: { mapping: 'helpdesk-messages' },
    fields: { mapping: 'object' },
  },
];

interface Case {
  name: string;
  method: string;
  path: string;
  /** Raw request body (already JSON, or deliberately not). */
  body?: string;
  contentType?: string;
  /** Statuses this case may get; default any 4xx but 401/403 (the caller is an admin with a token). */
  expect?: number[];
}

const fillPath = (path: string, params: Record<string, string>) =>
  path.replace(/:(\w+)/g, (_, name: string) => params[name] ?? `:${name}`);

/** `{"__proto__": ...}` cannot be written as an object literal (it sets the prototype), so splice JSON. */
const withRawKey = (body: Record<string, unknown>, key: string, value: unknown) => {
  const rest = JSON.stringify(body).slice(1);
  return `{${JSON.stringify(key)}:${JSON.stringify(value)}${rest === '}' ? '}' : `,${rest}`}`;
};

function casesFor(row: Row): Case[] {
  const [method, path] = row.route.split(' ') as [string, string];
  const upper = method.toUpperCase();
  const params = row.params ?? {};
  const body = row.body === undefined ? undefined : JSON.stringify(row.body);
  const at = fillPath(path, params);
  const cases: Case[] = [];

  for (const name of Object.keys(params))
    for (const [label, value] of BAD_PARAMS)
      cases.push({
        name: `:${name} ${label}`,
        method: upper,
        path: fillPath(path, { ...params, [name]: value }),
        body,
      });

  for (const [name, kind] of Object.entries(row.query ?? {}))
    for (const [label, value] of BAD_QUERY[kind])
      cases.push({
        name: `?${name} ${label}`,
        method: upper,
        path: `${at}?${name}=${value.replaceAll('{name}', name)}`,
        expect: [400],
      });

  if (row.body !== undefined) {
    const validates = row.fields !== undefined;
    const refused = validates ? [400] : undefined;
    const raw: [string, string, number[] | undefined][] = [
      ['a JSON null body', 'null', [400]],
      ['a JSON string body', '"x"', [400]],
      ['a JSON number body', '42', [400]],
      ['a JSON array body', '[]', refused],
      ['a body that is not JSON', '{"a":', [400]],
      ['a body with a trailing comma', '{"a":1,}', [400]],
      ['arrays nested 20 000 deep', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, refused],
      ['objects nested 5 000 deep', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`, refused],
      ['an operator key', withRawKey(row.body, '$where', 'sleep(1000) || true'), refused],
      ['a dotted key', withRawKey(row.body, 'a.b', 1), refused],
      ['a __proto__ key', withRawKey(row.body, '__proto__', { polluted: 'yes', role: 'admin' }), refused],
      [
        'a constructor.prototype key',
        withRawKey(row.body, 'constructor', { prototype: { polluted: 'yes' } }),
        refused,
      ],
      [
        '3000 unknown keys (the message stays short)',
        JSON.stringify({
          ...row.body,
          ...Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, 1])),
        }),
        refused,
      ],
      ['a body over the 64 KB limit', JSON.stringify({ ...row.body, padding: 'x'.repeat(70_000) }), [413]],
    ];
    for (const [name, text, expected] of raw)
      cases.push({ name, method: upper, path: at, body: text, ...(expected ? { expect: expected } : {}) });
    cases.push(
      {
        name: 'a charset the server does not read',
        method: upper,
        path: at,
        body: body!,
        contentType: 'application/json; charset=iso-8859-1',
        expect: [415],
      },
      {
        name: 'UTF-8 bytes labelled UTF-16',
        method: upper,
        path: at,
        body: body!,
        contentType: 'application/json; charset=utf-16',
        expect: [400],
      },
    );
    for (const [field, kind] of Object.entries(row.fields ?? {}))
      for (const [label, value] of WRONG[kind])
        cases.push({
          name: `${field} ${label}`,
          method: upper,
          path: at,
          body: JSON.stringify({ ...row.body, [field]: value }),
          expect: [400],
        });
  }
  return cases;
}

/** What a refusal must look like: JSON `{ ok: false, error, message }`, nothing from the inside. */
function problemsWith(
  status: number,
  text: string,
  contentType: string | null,
  expected?: number[],
): string[] {
  const problems: string[] = [];
  if (
    expected ? !expected.includes(status) : status < 400 || status >= 500 || status === 401 || status === 403
  )
    problems.push(`status ${status}${expected ? `, expected ${expected.join('/')}` : ''}`);
  if (!contentType?.startsWith('application/json')) problems.push(`content-type ${contentType}`);
  let body: { ok?: unknown; error?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text);
  } catch {
    problems.push(`not JSON: ${text.slice(0, 80)}`);
  }
  if (body.ok !== false) problems.push('ok is not false');
  if (typeof body.error !== 'string' || !/^[a-z_]+$/.test(body.error))
    problems.push(`error ${String(body.error)}`);
  if (typeof body.message !== 'string' || body.message.length === 0 || body.message.length > 2000)
    problems.push('no readable message');
  if (/\n\s+at |node_modules|\.ts:\d+|\/server\//.test(text)) problems.push('leaks a stack trace or path');
  return problems;
}

describe('the bad-input sweep over REST', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;
  let admin: ApiClient;
  let agentId: string;
  let conversationId: string;
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    cleanup = dataDir.cleanup;
    running = await startParley(
      testEnv(dataDir.dir, { PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '100000', PARLEY_MODEL_POLL_MS: '0' }),
    );
    await createUser(running.db.models, {
      email: 'ada@x.example',
      name: 'Ada',
      role: 'admin',
      password: PASSWORD,
    });
    agentId = (
      await createUser(running.db.models, {
        email: 'ben@x.example',
        name: 'Ben',
        role: 'agent',
        password: PASSWORD,
      })
    ).id;
    const site = await createSite(running.db.models, { name: 'shop', origins: [SHOP] });
    const { socket, session } = await connectVisitor(running.url, { siteKey: site.publicKey, origin: SHOP });
    conversationId = session.conversationId;
    socket.close();
    admin = new ApiClient(running.url);
    expect((await admin.login('ada@x.example', PASSWORD)).status).toBe(200);
  });
  afterAll(async () => {
    await running?.close();
    await cleanup();
  });

  async function send(c: Case): Promise<{ status: number; text: string; contentType: string | null }> {
    const headers: Record<string, string> = { cookie: admin.sessionCookie! };
    if (c.method !== 'GET') headers[CSRF_HEADER] = admin.csrfToken!;
    if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
    const response = await fetch(`${running.url}/api${c.path}`, { method: c.method, headers, body: c.body });
    return {
      status: response.status,
      text: await response.text(),
      contentType: response.headers.get('content-type'),
    };
  }

  it('has a row for every /api route Express has', () => {
    const registered = running.api.endpoints.map((e) => `${e.method} ${e.path}`).sort();
    expect(ROWS.map((row) => row.route).sort()).toEqual(registered);
  });

  const swept = ROWS.filter((row) => casesFor(row).length > 0);
  it.each(swept.map((row) => [row.route, casesFor(row).length, row] as const))(
    '%s: refuses %i bad inputs with a JSON 4xx and changes nothing',
    async (_route, _count, row) => {
      const before = await snapshotState(running.db.models);
      const failures: string[] = [];
      const cases = casesFor(row);
      // A few at a time: none may change anything, so their order does not matter.
      for (let i = 0; i < cases.length; i += 8)
        await Promise.all(
          cases.slice(i, i + 8).map(async (c) => {
            const response = await send(c);
            const problems = problemsWith(response.status, response.text, response.contentType, c.expect);
            if (problems.length)
              failures.push(`${c.name}: ${problems.join(', ')} (${response.text.slice(0, 160)})`);
          }),
        );
      expect(failures.sort()).toEqual([]);
      expect(stateChanges(before, await snapshotState(running.db.models))).toEqual([]);
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // The admin is still signed in and the token still works: the sweep itself broke nothing.
      expect((await admin.request('GET', '/auth/session')).body).toMatchObject({
        user: { email: 'ada@x.example' },
      });
    },
  );

  it('refuses a body over 1 MB anywhere, with a JSON 413 and no stored trace', async () => {
    const before = await snapshotState(running.db.models);
    const body = JSON.stringify({ name: 'x'.repeat(1_100_000) });
    for (const path of ['/api/sites', '/widget/look', '/healthz', '/nowhere']) {
      const response = await fetch(`${running.url}${path}`, {
        method: 'POST',
        headers: {
          cookie: admin.sessionCookie!,
          [CSRF_HEADER]: admin.csrfToken!,
          'content-type': 'application/json',
        },
        body,
      });
      const text = await response.text();
      // Outside /api nothing parses bodies: the route's own answer (404) comes back, still JSON.
      const expected = path === '/api/sites' ? [413] : [404];
      expect(problemsWith(response.status, text, response.headers.get('content-type'), expected)).toEqual([]);
    }
    expect(stateChanges(before, await snapshotState(running.db.models))).toEqual([]);
  });

  it('/widget/look: refuses bad keys and locales with a JSON 4xx', async () => {
    const queries = [
      '',
      'key=',
      `key=${'k'.repeat(500)}`,
      'key=a&key=b',
      'key=%24gt',
      'key=pk_unknown',
      `key=pk_unknown&locales=${'en,'.repeat(300)}`,
      'key=pk_unknown&locales=a&locales=b',
      'key=pk_%00%E2%80%AE',
    ];
    const failures: string[] = [];
    for (const query of queries) {
      const response = await fetch(`${running.url}/widget/look?${query}`);
      const text = await response.text();
      const problems = problemsWith(response.status, text, response.headers.get('content-type'));
      if (problems.length) failures.push(`?${query.slice(0, 40)}: ${problems.join(', ')}`);
    }
    expect(failures).toEqual([]);
  });

  it('reads bracketed query keys as plain names, never as operators', async () => {
    const plain = await admin.request<{ conversations: unknown[] }>('GET', '/conversations');
    for (const query of ['mode[$ne]=closed', 'limit[$gt]=0', 'q[$regex]=.*']) {
      const response = await admin.request<{ conversations: unknown[] }>('GET', `/conversations?${query}`);
      expect(response.status).toBe(200);
      expect(response.body.conversations).toEqual(plain.body.conversations);
    }
    // Search text is matched literally: regular-expression syntax is neither an error nor a pattern.
    for (const q of ['(', '[a-', '.*', '\\', '$where']) {
      const response = await admin.request<{ conversations: unknown[] }>(
        'GET',
        `/conversations?q=${encodeURIComponent(q)}`,
      );
      expect(response.status).toBe(200);
      expect(response.body.conversations).toEqual([]);
    }
  });

  // Decided: well-formed Unicode, however unusual, is stored and read back exactly (after the trim
  // the field documents); broken UTF-16 (a lone surrogate) is refused before anything is stored.
  const UNUSUAL_TEXT: [string, string][] = [
    ['a byte-order mark inside', 'a\uFEFFb'],
    ['an RTL override', 'abc\u202Edef'],
    ['stacked combining marks', `e${'\u0301'.repeat(40)}`],
    ['4-byte emoji and a ZWJ family', '👩‍👩‍👧‍👦 🚀 𝕏'],
    ['NUL and control characters', 'a\u0000b\u0007c'],
    ['a non-BMP CJK character', '𠀋 漢字'],
  ];

  it.each(UNUSUAL_TEXT)(
    'stores and echoes %s exactly in a name and in an agent reply',
    async (_label, text) => {
      const renamed = await admin.request<{ user: { name: string } }>('PATCH', `/users/${agentId}`, {
        name: text,
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body.user.name).toBe(text);
      const listed = await admin.request<{ users: { id: string; name: string }[] }>('GET', '/users');
      expect(listed.body.users.find((u) => u.id === agentId)!.name).toBe(text);

      const reply = await admin.request<{ message: { id: string; text: string } }>(
        'POST',
        `/conversations/${conversationId}/messages`,
        { text, clientMessageId: `unicode-${Buffer.from(text).toString('hex').slice(0, 40)}` },
      );
      expect(reply.status).toBe(201);
      expect(reply.body.message.text).toBe(text);
      const detail = await admin.request<{ messages: { id: string; text: string }[] }>(
        'GET',
        `/conversations/${conversationId}`,
      );
      expect(detail.body.messages.find((m) => m.id === reply.body.message.id)!.text).toBe(text);
    },
  );
});
