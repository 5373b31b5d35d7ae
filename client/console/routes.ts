/** The console's pages by path, under /console, with the History API. */

export const CONSOLE_BASE = '/console';

export type Route =
  | { page: 'login'; next: string | null }
  | { page: 'inbox'; conversationId: string | null }
  | { page: 'review' }
  | { page: 'not-found'; path: string };

export interface NavItem {
  path: string;
  label: string;
  /** Who sees it; the admin pages (sources, privacy, datasets, training, ...) will join with ['admin']. */
  roles: readonly ('admin' | 'agent')[];
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
];

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
    case 'not-found':
      return 'Page not found';
  }
}
