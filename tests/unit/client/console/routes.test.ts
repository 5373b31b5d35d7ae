import { describe, expect, it } from 'vitest';
import {
  isAdminRoute,
  isConsolePath,
  loginPath,
  NAV_ITEMS,
  parseRoute,
  routeTitle,
  sourcePath,
} from '../../../../client/console/routes.js';

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
    ['/console/settings', '', { page: 'not-found', path: '/console/settings' }],
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

  it('shows agents the inbox and the review queue, and admins the admin pages too', () => {
    const labels = (role: 'agent' | 'admin') =>
      NAV_ITEMS.filter((item) => item.roles.includes(role)).map((item) => item.label);
    expect(labels('agent')).toEqual(['Inbox', 'Review queue']);
    expect(labels('admin')).toEqual([
      'Inbox',
      'Review queue',
      'Versions',
      'Training',
      'Datasets',
      'Sources',
      'Privacy',
      'Sites',
      'Users',
      'Audit log',
    ]);
  });

  it.each([
    ['/console/versions', { page: 'versions', versionId: null }],
    ['/console/versions/v3', { page: 'versions', versionId: 'v3' }],
    ['/console/training', { page: 'training', jobId: null }],
    ['/console/training/65f1c2a9e4b0a1b2c3d4e5f6', { page: 'training', jobId: '65f1c2a9e4b0a1b2c3d4e5f6' }],
    ['/console/sources/widget%3Ashop', { page: 'sources', source: 'widget:shop' }],
    ['/console/sources/widget:shop', { page: 'sources', source: 'widget:shop' }],
    ['/console/datasets', { page: 'datasets' }],
    ['/console/privacy/', { page: 'privacy' }],
    ['/console/sites', { page: 'sites' }],
    ['/console/users', { page: 'users' }],
    ['/console/audit', { page: 'audit' }],
    ['/console/audit/x', { page: 'not-found', path: '/console/audit/x' }],
    ['/console/sources/%E0%A4%A', { page: 'not-found', path: '/console/sources/%E0%A4%A' }],
    ['/console/versions/../x', { page: 'not-found', path: '/console/versions/../x' }],
  ])('parses the admin page %s', (path, route) => {
    expect(parseRoute(path)).toEqual(route);
  });

  it('marks the admin pages as admins-only, and links to sources by encoded name', () => {
    expect(isAdminRoute(parseRoute('/console/versions'))).toBe(true);
    expect(isAdminRoute(parseRoute('/console/sources/widget:shop'))).toBe(true);
    expect(isAdminRoute(parseRoute('/console/inbox'))).toBe(false);
    expect(isAdminRoute(parseRoute('/console/review'))).toBe(false);
    expect(sourcePath('widget:shop')).toBe('/console/sources/widget%3Ashop');
    expect(parseRoute(sourcePath('widget:shop'))).toEqual({ page: 'sources', source: 'widget:shop' });
    expect(routeTitle({ page: 'versions', versionId: 'v2' })).toBe('Version v2');
  });
});
