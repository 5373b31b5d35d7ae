/** The console's pages by path, under /console, with the History API. */

export const CONSOLE_BASE = '/console';

export type Route =
  | { page: 'login'; next: string | null }
  | { page: 'inbox'; conversationId: string | null }
  | { page: 'review' }
  | { page: 'versions'; versionId: string | null }
  | { page: 'training'; jobId: string | null }
  | { page: 'datasets' }
  | { page: 'sources'; source: string | null }
  | { page: 'privacy' }
  | { page: 'sites' }
  | { page: 'users' }
  | { page: 'audit' }
  | { page: 'not-found'; path: string };

export type StaffRoleName = 'admin' | 'agent';

export interface NavItem {
  path: string;
  label: string;
  /** Who sees it: everyone, or admins only (the admin pages). */
  roles: readonly StaffRoleName[];
  /** Which routes mark it current. */
  matches: (route: Route) => boolean;
}

export const NAV_ITEMS: readonly NavItem[] = [
  {
    path: `${CONSOLE_BASE}/inbox`,
    label: 'Inbox',
    roles: ['admin', 'agent'],
    matches: (route) => route.page === 'inbox',
  },
  {
    path: `${CONSOLE_BASE}/review`,
    label: 'Review queue',
    roles: ['admin', 'agent'],
    matches: (route) => route.page === 'review',
  },
  ...(
    [
      ['versions', 'Versions'],
      ['training', 'Training'],
      ['datasets', 'Datasets'],
      ['sources', 'Sources'],
      ['privacy', 'Privacy'],
      ['sites', 'Sites'],
      ['users', 'Users'],
      ['audit', 'Audit log'],
    ] as const
  ).map(
    ([page, label]): NavItem => ({
      path: `${CONSOLE_BASE}/${page}`,
      label,
      roles: ['admin'],
      matches: (route) => route.page === page,
    }),
  ),
];

const ADMIN_PAGES: ReadonlySet<Route['page']> = new Set([
  'versions',
  'training',
  'datasets',
  'sources',
  'privacy',
  'sites',
  'users',
  'audit',
]);

/** Whether only admins may see this route (agents get an "admins only" page there). */
export const isAdminRoute = (route: Route): boolean => ADMIN_PAGES.has(route.page);

/** A source's name has a colon ("widget:shop") and may have more: one path segment, encoded. */
const SOURCE = /^[^/]{1,200}$/;

const decode = (segment: string): string | null => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
};

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The route for a path and query (location.pathname, location.search). */
export function parseRoute(pathname: string, search = ''): Route {
  const trimmed = pathname.replace(/\/+$/, '');
  if (trimmed !== CONSOLE_BASE && !trimmed.startsWith(`${CONSOLE_BASE}/`)) {
    return { page: 'not-found', path: pathname };
  }
  const parts = trimmed.slice(CONSOLE_BASE.length).split('/').filter(Boolean);
  const [first, second, ...rest] = parts;
  if (first === undefined) return { page: 'inbox', conversationId: null };
  if (first === 'login' && second === undefined) {
    const next = new URLSearchParams(search).get('next');
    return { page: 'login', next: next && isConsolePath(next) ? next : null };
  }
  if (first === 'inbox' && rest.length === 0) {
    if (second === undefined) return { page: 'inbox', conversationId: null };
    if (ID.test(second)) return { page: 'inbox', conversationId: second };
  }
  if (first === 'review' && second === undefined) return { page: 'review' };
  if (first === 'versions' && rest.length === 0) {
    if (second === undefined) return { page: 'versions', versionId: null };
    if (ID.test(second)) return { page: 'versions', versionId: second };
  }
  if (first === 'training' && rest.length === 0) {
    if (second === undefined) return { page: 'training', jobId: null };
    if (ID.test(second)) return { page: 'training', jobId: second };
  }
  if (first === 'sources' && rest.length === 0) {
    if (second === undefined) return { page: 'sources', source: null };
    const name = decode(second);
    if (name && SOURCE.test(name)) return { page: 'sources', source: name };
  }
  if (second === undefined) {
    for (const page of ['datasets', 'privacy', 'sites', 'users', 'audit'] as const) {
      if (first === page) return { page };
    }
  }
  return { page: 'not-found', path: pathname };
}

/** Only paths inside the console are followed after sign-in (no open redirects). */
export function isConsolePath(path: string): boolean {
  return (
    (path === CONSOLE_BASE || path.startsWith(`${CONSOLE_BASE}/`)) &&
    !path.startsWith('//') &&
    !path.includes('\\')
  );
}

export const conversationPath = (id: string) => `${CONSOLE_BASE}/inbox/${encodeURIComponent(id)}`;

export const versionPath = (id: string) => `${CONSOLE_BASE}/versions/${encodeURIComponent(id)}`;
export const trainingJobPath = (id: string) => `${CONSOLE_BASE}/training/${encodeURIComponent(id)}`;
export const sourcePath = (name: string) => `${CONSOLE_BASE}/sources/${encodeURIComponent(name)}`;

export const loginPath = (next: string | null) =>
  `${CONSOLE_BASE}/login${next && isConsolePath(next) && !next.startsWith(`${CONSOLE_BASE}/login`) ? `?next=${encodeURIComponent(next)}` : ''}`;

/** The document title for a route. */
export function routeTitle(route: Route): string {
  switch (route.page) {
    case 'login':
      return 'Sign in';
    case 'inbox':
      return route.conversationId ? 'Conversation' : 'Inbox';
    case 'review':
      return 'Review queue';
    case 'versions':
      return route.versionId ? `Version ${route.versionId}` : 'Versions';
    case 'training':
      return route.jobId ? 'Training run' : 'Training';
    case 'datasets':
      return 'Datasets';
    case 'sources':
      return route.source ? `Source ${route.source}` : 'Sources';
    case 'privacy':
      return 'Privacy';
    case 'sites':
      return 'Sites';
    case 'users':
      return 'Users';
    case 'audit':
      return 'Audit log';
    case 'not-found':
      return 'Page not found';
  }
}
