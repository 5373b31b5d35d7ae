import { describe, expect, it } from 'vitest';
import { isConsolePath, loginPath, NAV_ITEMS, parseRoute } from '../../../../client/console/routes.js';

describe('console routes', () => {
  const id = '65f1c2a9e4b0a1b2c3d4e5f6';
  it.each([
    ['/console', '', { page: 'inbox', conversationId: null }],
    ['/console/', '', { page: 'inbox', conversationId: null }],
    ['/console/inbox', '', { page: 'inbox', conversationId: null }],
    [`/console/inbox/${id}`, '', { page: 'inbox', conversationId: id }],
    ['/console/review', '', { page: 'review' }],
    ['/console/login', '?next=%2Fconsole%2Freview', { page: 'login', next: '/console/review' }],
    ['/console/login', '?next=https%3A%2F%2Fevil.example', { page: 'login', next: null }],
    ['/console/login', '?next=%2F%2Fevil.example', { page: 'login', next: null }],
    ['/console/inbox/a/b', '', { page: 'not-found', path: '/console/inbox/a/b' }],
    ['/console/inbox/<script>', '', { page: 'not-found', path: '/console/inbox/<script>' }],
    ['/console/sources', '', { page: 'not-found', path: '/console/sources' }],
    ['/consoles', '', { page: 'not-found', path: '/consoles' }],
  ])('%s%s is %j', (pathname, search, route) => {
    expect(parseRoute(pathname, search)).toEqual(route);
  });

  it.each([
    ['/console/inbox', true],
    ['/console', true],
    ['//evil.example/console', false],
    ['/console/..\\evil', false],
    ['https://evil.example/console', false],
    ['/api/auth/session', false],
  ])('%s is a console path: %s', (path, expected) => {
    expect(isConsolePath(path)).toBe(expected);
  });

  it('remembers where to go back to after sign-in, but never the login page itself', () => {
    expect(loginPath('/console/review')).toBe('/console/login?next=%2Fconsole%2Freview');
    expect(loginPath('/console/login?next=x')).toBe('/console/login');
    expect(loginPath(null)).toBe('/console/login');
    expect(loginPath('https://evil.example')).toBe('/console/login');
  });

  it('shows agents and admins the inbox and the review queue', () => {
    for (const role of ['agent', 'admin'] as const) {
      expect(NAV_ITEMS.filter((item) => item.roles.includes(role)).map((item) => item.label)).toEqual([
        'Inbox',
        'Review queue',
      ]);
    }
  });
});
