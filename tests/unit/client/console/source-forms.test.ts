import { describe, expect, it, vi } from 'vitest';
import { adminApi } from '../../../../client/console/admin-api.js';
import {
  mappingFormDefaults,
  mappingProblems,
  mappingRequest,
  SHIPPED_MAPPINGS,
  sourceConnection,
  sourceFormDefaults,
  sourceRequest,
} from '../../../../client/console/admin-forms.js';
import { ApiError, createApiClient } from '../../../../client/console/api.js';
import { MappingError, parseMapping } from '../../../../server/ingest/mapping.js';
import { SHIPPED_MAPPINGS as SERVER_MAPPINGS } from '../../../../server/ingest/mappings/index.js';
import { CSRF_HEADER } from '../../../../server/realtime/agent/protocol.js';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('the source forms', () => {
  it('offers exactly the mappings the server ships', () => {
    expect(SHIPPED_MAPPINGS.map((m) => m.name).sort()).toEqual(Object.keys(SERVER_MAPPINGS).sort());
    expect(SHIPPED_MAPPINGS.some((m) => m.name === mappingFormDefaults().shipped)).toBe(true);
  });

  it('sends a shipped mapping by name, and pasted JSON only when it is a JSON object', () => {
    expect(mappingRequest({ kind: 'shipped', shipped: 'conversations', json: 'ignored' })).toEqual({
      ok: true,
      value: 'conversations',
    });
    expect(
      mappingRequest({ kind: 'json', shipped: 'conversations', json: ' {"shape":"nonsense"} ' }),
    ).toEqual({ ok: true, value: { shape: 'nonsense' } });
    expect(mappingRequest({ kind: 'json', shipped: 'conversations', json: '  ' })).toEqual({
      ok: false,
      errors: { json: 'Paste a mapping as JSON, or choose a shipped one.' },
    });
    const broken = mappingRequest({ kind: 'json', shipped: 'conversations', json: '{"shape": ' });
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.errors.json).toMatch(/^This is not valid JSON: /);
    for (const notAnObject of ['[1]', 'null', '"conversations"', '3'])
      expect(mappingRequest({ kind: 'json', shipped: 'conversations', json: notAnObject })).toEqual({
        ok: false,
        errors: { json: expect.stringMatching(/^A mapping is a JSON object/) },
      });
  });

  it('checks a connection as the server does: a mongodb URI or "self", a database and a collection', () => {
    expect(sourceConnection({ uri: '', database: '', collection: '' })).toEqual({
      ok: false,
      errors: {
        uri: 'Enter the connection string.',
        database: 'Enter the database name.',
        collection: 'Enter the collection name.',
      },
    });
    expect(sourceConnection({ uri: 'postgres://x', database: 'd'.repeat(65), collection: 'c' })).toEqual({
      ok: false,
      errors: {
        uri: 'Enter a mongodb:// or mongodb+srv:// connection string, or self.',
        database: 'Keep it to 64 characters.',
      },
    });
    for (const uri of [
      'self',
      'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300',
      'mongodb+srv://u:p@x.example',
    ])
      expect(sourceConnection({ uri: ` ${uri} `, database: ' company ', collection: 'logs' })).toEqual({
        ok: true,
        value: { uri, database: 'company', collection: 'logs' },
      });
  });

  it('builds a new source from the whole form, naming every problem at once', () => {
    expect(sourceRequest(sourceFormDefaults())).toEqual({
      ok: false,
      errors: {
        name: 'Give the source a name.',
        uri: 'Enter the connection string.',
        database: 'Enter the database name.',
        collection: 'Enter the collection name.',
      },
    });
    expect(
      sourceRequest({
        ...sourceFormDefaults(),
        name: 'company logs',
        uri: 'self',
        database: 'company',
        collection: 'logs',
        mapping: { kind: 'json', shipped: 'helpdesk-messages', json: '{' },
      }),
    ).toEqual({
      ok: false,
      errors: {
        name: 'Use letters, digits, _ . and - only.',
        json: expect.stringMatching(/^This is not valid JSON/),
      },
    });
    expect(
      sourceRequest({
        name: ' company-logs ',
        uri: 'self',
        database: 'company',
        collection: 'logs',
        mapping: mappingFormDefaults(),
      }),
    ).toEqual({
      ok: true,
      value: {
        name: 'company-logs',
        uri: 'self',
        database: 'company',
        collection: 'logs',
        mapping: 'helpdesk-messages',
      },
    });
  });

  it('lists the problems of a mapping the server refused, one per line of its message', () => {
    // The server's own refusal of {"shape":"nonsense"}, as its 400 carries it.
    let refused: MappingError | null = null;
    try {
      parseMapping({ shape: 'nonsense' });
    } catch (error) {
      refused = error as MappingError;
    }
    expect(refused).toBeInstanceOf(MappingError);
    const problems = mappingProblems(new ApiError(400, 'invalid_mapping', refused!.message));
    expect(problems).toEqual(refused!.problems);
    expect(problems![0]).toMatch(/^shape: /);
    const several = new MappingError([
      'fields.text: Required',
      'roles: map at least one source value to a role',
    ]);
    expect(mappingProblems(new ApiError(400, 'invalid_mapping', several.message))).toEqual(several.problems);
    expect(mappingProblems(new ApiError(400, 'bad_request', 'mapping: bad'))).toBeNull();
    expect(mappingProblems(new ApiError(409, 'invalid_mapping', 'x'))).toBeNull();
    expect(mappingProblems(new Error('x'))).toBeNull();
  });

  it('tests, adds and re-maps sources over the API, with the CSRF token', async () => {
    const calls: { method: string; url: string; body: unknown; csrf: string | undefined }[] = [];
    const answers = [
      json(200, { user: null, csrfToken: 't1' }),
      json(200, { ok: true, message: 'company.logs answers.' }),
      json(201, { source: { name: 'company-logs', shape: 'message-per-document' } }),
      json(200, { source: { name: 'company-logs', shape: 'conversation-per-document' } }),
    ];
    const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const headers = (init?.headers ?? {}) as Record<string, string>;
      calls.push({
        method: init?.method ?? 'GET',
        url: String(input),
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
        csrf: headers[CSRF_HEADER],
      });
      return answers.shift()!;
    });
    const admin = adminApi(createApiClient({ fetch: fetch as unknown as typeof globalThis.fetch }));
    const connection = { uri: 'self', database: 'company', collection: 'logs' };
    expect(await admin.testSource(connection)).toEqual({ ok: true, message: 'company.logs answers.' });
    expect(
      await admin.addSource({ name: 'company-logs', ...connection, mapping: 'helpdesk-messages' }),
    ).toMatchObject({ name: 'company-logs' });
    expect(await admin.updateSourceMapping('company logs', 'conversations')).toMatchObject({
      shape: 'conversation-per-document',
    });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/auth/session',
      'POST /api/sources/test',
      'POST /api/sources',
      'PATCH /api/sources/company%20logs',
    ]);
    expect(calls.slice(1).map((c) => c.csrf)).toEqual(['t1', 't1', 't1']);
    expect(calls[2]!.body).toEqual({ name: 'company-logs', ...connection, mapping: 'helpdesk-messages' });
    expect(calls[3]!.body).toEqual({ mapping: 'conversations' });
  });
});
