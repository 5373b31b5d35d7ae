/**
 * The console: who is signed in, which page the address names, the shell around the pages
 * (header, navigation with the count of conversations waiting for a person, live status).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { SessionInfo, StaffUser } from '../../server/realtime/agent/protocol.js';
import { type ApiClient, ApiError, createApiClient, errorMessage } from './api.js';
import { AdminsOnly } from './components/admin.js';
import { HelpDialog } from './components/help-dialog.js';
import { Console, type ConsoleContext } from './context.js';
import { pageShortcut } from './hooks.js';
import { updateWaiting } from './inbox-state.js';
import { Live, type LiveState } from './live.js';
import { AuditPage } from './pages/audit.js';
import { DatasetsPage } from './pages/datasets.js';
import { InboxPage } from './pages/inbox.js';
import { LoginPage } from './pages/login.js';
import { PrivacyPage } from './pages/privacy.js';
import { ReviewPage } from './pages/review.js';
import { SitesPage } from './pages/sites.js';
import { SourcesPage } from './pages/sources.js';
import { TrainingPage } from './pages/training.js';
import { UsersPage } from './pages/users.js';
import { VersionsPage } from './pages/versions.js';
import { Link, navigate, useLocation } from './router.js';
import {
  CONSOLE_BASE,
  isAdminRoute,
  loginPath,
  NAV_ITEMS,
  type NavItem,
  parseRoute,
  type Route,
  routeTitle,
} from './routes.js';

type Boot =
  | { state: 'loading' }
  | { state: 'failed'; message: string }
  | { state: 'ready'; user: StaffUser | null };

export function App() {
  const where = useLocation();
  const route = parseRoute(where.pathname, where.search);
  const [boot, setBoot] = useState<Boot>({ state: 'loading' });
  const [notice, setNotice] = useState<string | null>(null);
  const api = useMemo(
    () =>
      createApiClient({
        onUnauthorized: () => {
          setNotice('Your session ended. Sign in again.');
          setBoot({ state: 'ready', user: null });
        },
      }),
    [],
  );

  const start = () => {
    setBoot({ state: 'loading' });
    api
      .session()
      .then((session) => setBoot({ state: 'ready', user: session.user }))
      .catch((error: unknown) => setBoot({ state: 'failed', message: errorMessage(error) }));
  };
  useEffect(start, []);

  const user = boot.state === 'ready' ? boot.user : null;

  // Signed out: the login page, remembering where to go back to. Signed in: never the login page.
  useEffect(() => {
    if (boot.state !== 'ready') return;
    if (!user && route.page !== 'login') {
      navigate(loginPath(`${where.pathname}${where.search}`), { replace: true });
    } else if (user && route.page === 'login') {
      navigate(route.next ?? `${CONSOLE_BASE}/inbox`, { replace: true });
    } else if (user && where.pathname.replace(/\/+$/, '') === CONSOLE_BASE) {
      navigate(`${CONSOLE_BASE}/inbox`, { replace: true });
    }
  }, [boot, route.page, where.pathname]);

  useEffect(() => {
    document.title = `${routeTitle(route)} · Parley`;
  }, [where.pathname]);

  if (boot.state === 'loading') {
    return (
      <main class="boot" id="main" aria-busy="true">
        <p class="state">Loading the console…</p>
      </main>
    );
  }
  if (boot.state === 'failed') {
    return (
      <main class="boot" id="main">
        <div class="state state-error" role="alert">
          <h1>The console could not start</h1>
          <p>{boot.message}</p>
          <button type="button" class="primary" onClick={start}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (!user) {
    if (route.page !== 'login') return null;
    return (
      <LoginPage
        api={api}
        notice={notice}
        onSignedIn={(session: SessionInfo) => {
          setNotice(null);
          setBoot({ state: 'ready', user: session.user });
        }}
      />
    );
  }
  if (route.page === 'login') return null;
  return (
    <SignedIn
      api={api}
      user={user}
      route={route}
      onSignedOut={() => {
        setNotice('You signed out.');
        setBoot({ state: 'ready', user: null });
      }}
    />
  );
}

function SignedIn({
  api,
  user,
  route,
  onSignedOut,
}: {
  api: ApiClient;
  user: StaffUser;
  route: Route;
  onSignedOut: () => void;
}) {
  const live = useMemo(() => new Live(), [user.id]);
  useEffect(() => () => live.close(), [live]);
  const [liveState, setLiveState] = useState<LiveState>(live.state);
  const [agentsOnline, setAgentsOnline] = useState<number | null>(null);
  const [waiting, setWaiting] = useState<ReadonlySet<string>>(new Set());
  const [helpOpen, setHelpOpen] = useState(false);
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const mainRef = useRef<HTMLElement>(null);

  // The nav badge: conversations waiting for a person, live.
  useEffect(() => {
    const loadWaiting = () =>
      api
        .conversations({ mode: 'waiting', limit: 200 })
        .then((rows) => setWaiting(new Set(rows.map((row) => row.id))))
        .catch(() => undefined);
    loadWaiting();
    const off = [
      live.onState(setLiveState),
      live.onReconnect(loadWaiting),
      live.on('conversation:updated', (summary) => setWaiting((current) => updateWaiting(current, summary))),
      live.on('presence', (event) => setAgentsOnline(event.agentsOnline)),
    ];
    return () => {
      for (const unsubscribe of off) unsubscribe();
    };
  }, [live]);

  // "?" opens the shortcuts from any page.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (pageShortcut(event) === 'help') {
        event.preventDefault();
        setHelpOpen(true);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const context: ConsoleContext = useMemo(
    () => ({ api, live, user, showHelp: () => setHelpOpen(true) }),
    [api, live, user],
  );

  const signOut = async () => {
    setSignOutError(null);
    try {
      await api.logout();
    } catch (error) {
      // Signed out already (the session ended): nothing left to do on the server.
      if (!(error instanceof ApiError && error.status === 401)) {
        setSignOutError(errorMessage(error));
        return;
      }
    }
    live.close();
    onSignedOut();
  };

  const waitingCount = waiting.size;

  return (
    <Console.Provider value={context}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <div class="shell">
        <header class="topbar">
          <span class="product">Parley</span>
          <span class={`live live-${liveState}`} role="status">
            {liveState === 'online'
              ? agentsOnline === null
                ? 'Live'
                : `Live · ${agentsOnline} ${agentsOnline === 1 ? 'agent' : 'agents'} online`
              : liveState === 'connecting'
                ? 'Connecting…'
                : 'Reconnecting…'}
          </span>
          <div class="who">
            <span class="user-name">{user.name}</span>
            <span class="role-badge">{user.role === 'admin' ? 'Admin' : 'Agent'}</span>
            <button
              type="button"
              class="help-button"
              onClick={() => setHelpOpen(true)}
              aria-label="Keyboard shortcuts"
            >
              ?
            </button>
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
          {signOutError ? (
            <p class="error" role="alert">
              {signOutError}
            </p>
          ) : null}
        </header>
        <nav class="sidenav" aria-label="Console">
          <NavList
            items={NAV_ITEMS.filter((item) => item.roles.includes('agent'))}
            route={route}
            role={user.role}
            waitingCount={waitingCount}
          />
          {user.role === 'admin' ? (
            <>
              <h2 class="nav-heading" id="nav-admin">
                Admin
              </h2>
              <NavList
                items={NAV_ITEMS.filter((item) => !item.roles.includes('agent'))}
                route={route}
                role={user.role}
                waitingCount={waitingCount}
                labelledBy="nav-admin"
              />
            </>
          ) : null}
        </nav>
        <main id="main" ref={mainRef} class={`page page-${route.page}`}>
          {route.page === 'inbox' ? (
            <InboxPage conversationId={route.conversationId} />
          ) : route.page === 'review' ? (
            <ReviewPage />
          ) : isAdminRoute(route) && user.role !== 'admin' ? (
            <AdminsOnly />
          ) : route.page === 'versions' ? (
            <VersionsPage versionId={route.versionId} />
          ) : route.page === 'training' ? (
            <TrainingPage jobId={route.jobId} />
          ) : route.page === 'datasets' ? (
            <DatasetsPage />
          ) : route.page === 'sources' ? (
            <SourcesPage source={route.source} />
          ) : route.page === 'privacy' ? (
            <PrivacyPage />
          ) : route.page === 'sites' ? (
            <SitesPage />
          ) : route.page === 'users' ? (
            <UsersPage />
          ) : route.page === 'audit' ? (
            <AuditPage />
          ) : (
            <NotFound path={route.page === 'not-found' ? route.path : ''} />
          )}
        </main>
      </div>
      <HelpDialog open={helpOpen} onClose={() => setHelpOpen(false)} />
    </Console.Provider>
  );
}

/** One list of nav links: those for everyone, or the admin pages under their heading. */
function NavList({
  items,
  route,
  role,
  waitingCount,
  labelledBy,
}: {
  items: readonly NavItem[];
  route: Route;
  role: 'admin' | 'agent';
  waitingCount: number;
  labelledBy?: string;
}) {
  return (
    <ul aria-labelledby={labelledBy}>
      {items
        .filter((item) => item.roles.includes(role))
        .map((item) => {
          const current = item.matches(route);
          return (
            <li key={item.path}>
              <Link
                href={item.path}
                aria-current={current ? 'page' : undefined}
                class={current ? 'current' : ''}
              >
                <span>{item.label}</span>
                {item.label === 'Inbox' && waitingCount > 0 ? (
                  <span class="count-badge">
                    {waitingCount}
                    <span class="visually-hidden"> waiting for a person</span>
                  </span>
                ) : null}
              </Link>
            </li>
          );
        })}
    </ul>
  );
}

function NotFound({ path }: { path: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), [path]);
  return (
    <div class="state">
      <h1 tabIndex={-1} ref={ref}>
        Page not found
      </h1>
      <p>Nothing in the console lives at {path}.</p>
      <Link href={`${CONSOLE_BASE}/inbox`}>Go to the inbox</Link>
    </div>
  );
}
