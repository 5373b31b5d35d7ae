/** Signing in to the console: sessions, CSRF, lockout, rate limits and hostile login payloads. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../server/auth/users.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { ApiClient } from '../support/api-client.js';
import { tempDataDir, testEnv } from '../support/env.js';

const PASSWORD = 'correct horse battery';

describe('console sign-in', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    cleanup = dataDir.cleanup;
    running = await startParley(testEnv(dataDir.dir, { PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '1000' }));
    for (const [email, role] of [
      ['agent@shop.example', 'agent'],
      ['locked@shop.example', 'agent'],
      ['gone@shop.example', 'agent'],
    ] as const)
      await createUser(running.db.models, { email, name: email.split('@')[0]!, role, password: PASSWORD });
  });
  afterAll(async () => {
    await running.close();
    await cleanup();
  });

  it('signs in with the right password: a new session, a new CSRF token, and an audit entry', async () => {
    const client = new ApiClient(running.url);
    const before = await client.session();
    expect(before.user).toBeNull();
    const cookieBefore = client.sessionCookie;

    const response = await client.login('Agent@Shop.example', PASSWORD);
    expect(response.status).toBe(200);
    expect(response.body.user).toMatchObject({ email: 'agent@shop.example', role: 'agent' });
    expect(response.body.csrfToken).not.toBe(before.csrfToken);
    expect(client.sessionCookie).not.toBe(cookieBefore);
    expect((await client.session()).user?.email).toBe('agent@shop.example');
    expect(
      await running.db.models.AuditEvent.countDocuments({
        action: 'auth.login',
        'actor.email': 'agent@shop.example',
      }),
    ).toBe(1);
  });

  it('sets the session cookie httpOnly and SameSite=Lax', async () => {
    const response = await fetch(`${running.url}/api/auth/session`);
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^parley\.sid=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  it.each([
    ['without a CSRF token', undefined, false],
    ['with a wrong CSRF token', 'not-the-token', true],
  ])('refuses a sign-in %s with 403', async (_case, token, send) => {
    const client = new ApiClient(running.url);
    await client.session();
    if (token) client.csrfToken = token;
    const response = await client.request(
      'POST',
      '/auth/login',
      { email: 'agent@shop.example', password: PASSWORD },
      { csrf: send },
    );
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ ok: false, error: 'bad_csrf_token' });
  });

  it('refuses a wrong password with 401 and says nothing about which part was wrong', async () => {
    const client = new ApiClient(running.url);
    for (const [email, password] of [
      ['agent@shop.example', 'wrong password!!'],
      ['nobody@shop.example', PASSWORD],
    ]) {
      const response = await client.login(email!, password!);
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: 'invalid_login', message: 'Wrong email or password.' });
    }
  });

  it.each([
    ['an operator as email', { email: { $gt: '' }, password: PASSWORD }],
    ['an operator as password', { email: 'agent@shop.example', password: { $ne: null } }],
    ['an array', { email: ['agent@shop.example'], password: PASSWORD }],
    ['extra fields', { email: 'agent@shop.example', password: PASSWORD, role: 'admin' }],
    ['no body', {}],
  ])('rejects %s with 400 and signs nobody in', async (_case, body) => {
    const client = new ApiClient(running.url);
    await client.session();
    const response = await client.request('POST', '/auth/login', body);
    expect(response.status).toBe(400);
    expect((await client.session()).user).toBeNull();
  });

  it('locks an account after 5 wrong passwords, even against the right one', async () => {
    const client = new ApiClient(running.url);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await client.login('locked@shop.example', `wrong-${i}-password`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const right = await client.login('locked@shop.example', PASSWORD);
    expect(right.status).toBe(429);
    expect(right.body).toMatchObject({ error: 'too_many_attempts' });
    expect((right.body as unknown as { message: string }).message).toMatch(
      /locked .* try again in 15 minute/,
    );
  });

  it('refuses a disabled account', async () => {
    await running.db.models.User.updateOne(
      { email: 'gone@shop.example' },
      { $set: { disabledAt: new Date() } },
    );
    const response = await new ApiClient(running.url).login('gone@shop.example', PASSWORD);
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ error: 'account_disabled' });
  });

  it('signs out: the session no longer has a user and staff endpoints answer 401', async () => {
    const client = new ApiClient(running.url);
    await client.login('agent@shop.example', PASSWORD);
    expect((await client.request('GET', '/conversations')).status).toBe(200);
    const out = await client.request('POST', '/auth/logout');
    expect(out.status).toBe(200);
    expect((await client.session()).user).toBeNull();
    expect((await client.request('GET', '/conversations')).status).toBe(401);
  });
});

describe('console sign-in rate limit', () => {
  it('answers 429 once an IP has used its attempts for the minute', async () => {
    const dataDir = await tempDataDir();
    const running = await startParley(testEnv(dataDir.dir, { PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '3' }));
    try {
      const client = new ApiClient(running.url);
      const statuses = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await client.login('someone@shop.example', 'whatever password')).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await running.close();
      await dataDir.cleanup();
    }
  });
});
