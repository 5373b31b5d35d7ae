/**
 * The policy layer: every /api route has a declared access, and each answers anonymous callers,
 * agents and admins as that access says (401, 403, or past the policy).
 */
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../server/auth/policy.js';
import { createUser } from '../../server/auth/users.js';
import { type RunningParley, startParley } from '../../server/index.js';
import { ApiClient } from '../support/api-client.js';
import { tempDataDir, testEnv } from '../support/env.js';

const PASSWORD = 'correct horse battery';

/** Every route Express has under /api: method and path, as registered. */
function registeredRoutes(router: RunningParley['api']['router']): string[] {
  const routes: string[] = [];
  for (const layer of (
    router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }
  ).stack) {
    if (!layer.route) continue;
    for (const method of Object.keys(layer.route.methods)) routes.push(`${method} ${layer.route.path}`);
  }
  return routes.sort();
}

const concretePath = (path: string) =>
  path.replace(':id', new ObjectId().toHexString()).replace(':messageId', new ObjectId().toHexString());

describe('the API policy', () => {
  let running: RunningParley;
  let cleanup: () => Promise<void>;
  const clients: Record<'anonymous' | 'agent' | 'admin', ApiClient> = {} as never;

  beforeAll(async () => {
    const dataDir = await tempDataDir();
    cleanup = dataDir.cleanup;
    running = await startParley(testEnv(dataDir.dir, { PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: '1000' }));
    await createUser(running.db.models, {
      email: 'agent@x.example',
      name: 'Agent',
      role: 'agent',
      password: PASSWORD,
    });
    await createUser(running.db.models, {
      email: 'admin@x.example',
      name: 'Admin',
      role: 'admin',
      password: PASSWORD,
    });
    clients.anonymous = new ApiClient(running.url);
    await clients.anonymous.session();
    clients.agent = new ApiClient(running.url);
    expect((await clients.agent.login('agent@x.example', PASSWORD)).status).toBe(200);
    clients.admin = new ApiClient(running.url);
    expect((await clients.admin.login('admin@x.example', PASSWORD)).status).toBe(200);
  });
  afterAll(async () => {
    await running.close();
    await cleanup();
  });

  it('has no /api route without a declared access', () => {
    const declared = running.api.endpoints.map((e) => `${e.method} ${e.path}`).sort();
    expect(registeredRoutes(running.api.router)).toEqual(declared);
    expect(declared.length).toBeGreaterThanOrEqual(12);
  });

  const expected = (endpoint: Endpoint, who: 'anonymous' | 'agent' | 'admin'): 'allowed' | 401 | 403 => {
    if (endpoint.access === 'public') return 'allowed';
    if (who === 'anonymous') return 401;
    if (endpoint.access === 'admin' && who === 'agent') return 403;
    return 'allowed';
  };

  it.each(['anonymous', 'agent', 'admin'] as const)(
    'answers %s on every endpoint as its access says',
    async (who) => {
      const outcomes: string[] = [];
      const wanted: string[] = [];
      for (const endpoint of running.api.endpoints) {
        // Signing out or in would change the caller for the rest of the table.
        if (endpoint.path === '/auth/logout' || endpoint.path === '/auth/login') continue;
        const method = endpoint.method.toUpperCase();
        const response = await clients[who].request(
          method,
          concretePath(endpoint.path),
          method === 'GET' ? undefined : {},
        );
        const got = response.status === 401 || response.status === 403 ? response.status : 'allowed';
        outcomes.push(`${method} ${endpoint.path}: ${got}`);
        wanted.push(`${method} ${endpoint.path}: ${expected(endpoint, who)}`);
      }
      expect(outcomes).toEqual(wanted);
    },
  );

  it('answers the sign-out endpoint by its policy too', async () => {
    const anonymous = await clients.anonymous.request('POST', '/auth/logout', {});
    expect(anonymous.status).toBe(401);
  });
});
