import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApiClient, errorMessage, NETWORK_MESSAGE } from '../../../../client/console/api.js';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that answers from a list of responses, in order, and records each request. */
function fakeFetch(responses: (Response | Error)[]) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({
      method: init?.method ?? 'GET',
      url: String(input),
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    });
    const next = responses.shift();
    if (!next) throw new Error(`unexpected request ${init?.method} ${String(input)}`);
    if (next instanceof Error) throw next;
    return next;
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const session = (token: string, user: unknown = null) => json(200, { user, csrfToken: token });
const ada = { id: 'u1', email: 'ada@parley.local', name: 'Ada', role: 'agent' };

describe('the console API client', () => {
  it('fetches the CSRF token before its first unsafe request and sends it in X-CSRF-Token', async () => {
    const { fetch, calls } = fakeFetch([session('t1'), json(200, { id: 'c1', messages: [] })]);
    const api = createApiClient({ fetch });
    await api.takeOver('c1');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/auth/session',
      'POST /api/conversations/c1/take-over',
    ]);
    expect(calls[1]!.headers['x-csrf-token']).toBe('t1');
    expect(calls[0]!.headers['x-csrf-token']).toBeUndefined();
  });

  it('reads the new token after login and uses it from then on', async () => {
    const { fetch, calls } = fakeFetch([
      session('before'),
      json(200, { user: ada, csrfToken: 'after' }),
      session('after', ada),
      json(200, { message: { id: 'm1' } }),
    ]);
    const api = createApiClient({ fetch });
    const signedIn = await api.login({ email: 'ada@parley.local', password: 'secret' });
    expect(signedIn.user).toEqual(ada);
    expect(calls[1]!.headers['x-csrf-token']).toBe('before');
    expect(calls[1]!.body).toEqual({ email: 'ada@parley.local', password: 'secret' });
    await api.sendMessage('c1', 'Hi', 'k1');
    expect(calls[3]!.headers['x-csrf-token']).toBe('after');
    expect(calls[3]!.body).toEqual({ text: 'Hi', clientMessageId: 'k1' });
  });

  it("throws the server's error id and message, and a wrong password does not count as a lost session", async () => {
    const onUnauthorized = vi.fn();
    const { fetch } = fakeFetch([
      session('t'),
      json(401, { ok: false, error: 'invalid_credentials', message: 'Wrong email or password.' }),
      json(429, { ok: false, error: 'locked', message: 'Too many attempts. Try again in 15 minutes.' }),
    ]);
    const api = createApiClient({ fetch, onUnauthorized });
    const wrong = await api.login({ email: 'a@b.c', password: 'x' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect(wrong).toMatchObject({
      status: 401,
      error: 'invalid_credentials',
      message: 'Wrong email or password.',
    });
    const locked = await api.login({ email: 'a@b.c', password: 'x' }).catch((e: unknown) => e);
    expect(locked).toMatchObject({ status: 429, message: 'Too many attempts. Try again in 15 minutes.' });
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('reports a 401 on any other request as the end of the session', async () => {
    const onUnauthorized = vi.fn();
    const { fetch } = fakeFetch([json(401, { ok: false, error: 'unauthorized', message: 'Sign in first.' })]);
    const api = createApiClient({ fetch, onUnauthorized });
    await expect(api.conversations()).rejects.toMatchObject({ status: 401, message: 'Sign in first.' });
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('refreshes a refused CSRF token once and retries', async () => {
    const { fetch, calls } = fakeFetch([
      session('old'),
      json(403, { ok: false, error: 'invalid_csrf_token', message: 'Reload the page.' }),
      session('new'),
      json(200, { message: { id: 'm1' } }),
    ]);
    const api = createApiClient({ fetch });
    await api.rate('c1', 'm1', { value: 'up' });
    expect(calls.map((c) => c.headers['x-csrf-token'] ?? null)).toEqual([null, 'old', null, 'new']);
    expect(calls[3]!.method).toBe('PUT');
    expect(calls[3]!.url).toBe('/api/conversations/c1/messages/m1/rating');
  });

  it('does not retry a 403 for a role', async () => {
    const { fetch, calls } = fakeFetch([
      session('t'),
      json(403, { ok: false, error: 'forbidden', message: 'Your role does not allow this.' }),
    ]);
    const api = createApiClient({ fetch });
    await expect(api.handBack('c1')).rejects.toMatchObject({ status: 403, error: 'forbidden' });
    expect(calls).toHaveLength(2);
  });

  it('says Parley could not be reached when fetch fails, and names the status of a non-JSON error', async () => {
    const { fetch } = fakeFetch([
      new TypeError('Failed to fetch'),
      new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
      new Response('<html>ok</html>', { status: 200 }),
    ]);
    const api = createApiClient({ fetch });
    await expect(api.conversations()).rejects.toMatchObject({
      status: 0,
      error: 'network',
      message: NETWORK_MESSAGE,
    });
    await expect(api.conversations()).rejects.toMatchObject({
      status: 502,
      error: 'http_502',
      message: 'Parley answered 502 Bad Gateway.',
    });
    await expect(api.conversations()).rejects.toMatchObject({ error: 'bad_response' });
  });

  it('builds list and queue queries, leaving out empty filters', async () => {
    const { fetch, calls } = fakeFetch([
      json(200, { conversations: [] }),
      json(200, { conversations: [] }),
      json(200, { items: [] }),
    ]);
    const api = createApiClient({ fetch });
    await api.conversations({ mode: 'waiting', q: '  refund & more ', limit: 20 });
    await api.conversations({ mode: null, q: '   ' });
    await api.reviewQueue('confidence');
    expect(calls.map((c) => c.url)).toEqual([
      '/api/conversations?mode=waiting&q=refund+%26+more&limit=20',
      '/api/conversations',
      '/api/review-queue?order=confidence&limit=50',
    ]);
  });

  it('escapes ids in paths', async () => {
    const { fetch, calls } = fakeFetch([json(200, { id: 'x' })]);
    await createApiClient({ fetch }).conversation('../auth/session');
    expect(calls[0]!.url).toBe('/api/conversations/..%2Fauth%2Fsession');
  });

  it('turns anything thrown into a sentence', () => {
    expect(errorMessage(new ApiError(409, 'conflict', 'Someone else took it.'))).toBe(
      'Someone else took it.',
    );
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('weird')).toBe('Something went wrong.');
  });
});
