import { useEffect, useState } from 'preact/hooks';
import { NetworkError, api, type User } from '../api';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Link } from '../components/Link';
import { Loading } from '../components/Loading';
import { Logo } from '../components/Logo';
import { describeError, isUnauthorized } from '../errors';
import { initials } from '../format';
import { t } from '../i18n';
import { currentPath, loginPath, navigate, type Route } from '../router';
import { SessionContext } from '../session';
import { AdminView } from './AdminView';
import { HomeView } from './HomeView';
import { NotFoundView } from './NotFoundView';
import { ProfileView } from './ProfileView';

type ShellRoute = Extract<Route, { name: 'home' | 'profile' | 'admin' | 'notFound' }>;

type LoadState =
  | { status: 'loading' }
  | { status: 'ready'; user: User }
  | { status: 'error'; message: string };

/**
 * The signed-in application: header, sidebar and the routed main area.
 * Loads the current user once; a 401 sends the browser to the sign-in page.
 */
export function Shell({ route }: { route: ShellRoute }) {
  const [state, setState] = useState<LoadState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    api.me().then(
      (user) => {
        if (!cancelled) setState({ status: 'ready', user });
      },
      (err) => {
        if (cancelled) return;
        if (isUnauthorized(err)) navigate(loginPath(currentPath()), { replace: true });
        else setState({ status: 'error', message: describeError(err) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  if (state.status === 'loading') {
    return (
      <main id="main" class="center-page" tabIndex={-1}>
        <Loading />
      </main>
    );
  }
  if (state.status === 'error') {
    return (
      <main id="main" class="center-page" tabIndex={-1}>
        <div class="center-box">
          <h1 class="page-title">{t('shell.loadFailed')}</h1>
          <Alert>{state.message}</Alert>
          <Button
            onClick={() => {
              setState({ status: 'loading' });
              setAttempt((n) => n + 1);
            }}
          >
            {t('common.retry')}
          </Button>
        </div>
      </main>
    );
  }

  const user = state.user;
  return (
    <SessionContext.Provider value={{ user, setUser: (u) => setState({ status: 'ready', user: u }) }}>
      <ShellFrame user={user} route={route} />
    </SessionContext.Provider>
  );
}

function ShellFrame({ user, route }: { user: User; route: ShellRoute }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const [signOutError, setSignOutError] = useState<string | null>(null);

  // Escape closes the phone-size navigation drawer.
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') setMenuOpen(false);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  async function signOut() {
    setSigningOut(true);
    setSignOutError(null);
    try {
      await api.logout();
    } catch (err) {
      if (err instanceof NetworkError) {
        setSignOutError(describeError(err));
        setSigningOut(false);
        return;
      }
      // Any other answer (e.g. 401: already signed out) still ends here.
    }
    navigate('/login', { replace: true });
  }

  const closeMenu = () => setMenuOpen(false);
  const navItem = (href: string, name: ShellRoute['name'], label: string) => (
    <li>
      <Link href={href} class="nav-link" current={route.name === name} onNavigate={closeMenu}>
        {label}
      </Link>
    </li>
  );

  let content;
  switch (route.name) {
    case 'home':
      content = <HomeView />;
      break;
    case 'profile':
      content = <ProfileView />;
      break;
    case 'admin':
      content = user.is_admin ? <AdminView /> : <NotFoundView />;
      break;
    default:
      content = <NotFoundView />;
  }

  return (
    <div class={menuOpen ? 'shell menu-open' : 'shell'}>
      <header class="topbar">
        <button
          type="button"
          class="icon-btn menu-btn"
          aria-controls="sidebar"
          aria-expanded={menuOpen}
          aria-label={menuOpen ? t('shell.closeMenu') : t('shell.openMenu')}
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
            <path d="M3 5h14M3 10h14M3 15h14" class="icon-stroke" />
          </svg>
        </button>
        <Link href="/" class="topbar-brand" onNavigate={closeMenu}>
          <Logo />
          <span>{t('app.name')}</span>
        </Link>
        <div class="topbar-user">
          <span class="avatar" aria-hidden="true">
            {initials(user.display_name || user.username)}
          </span>
          <span class="topbar-name" title={t('shell.signedInAs', { name: user.username })}>
            {user.display_name || user.username}
          </span>
          <Button variant="ghost" size="small" busy={signingOut} onClick={signOut}>
            {signingOut ? t('shell.signingOut') : t('shell.signOut')}
          </Button>
        </div>
      </header>

      <nav id="sidebar" class="sidebar" aria-label={t('shell.navigation')}>
        <ul class="nav-list">
          {navItem('/', 'home', t('shell.home'))}
          {navItem('/profile', 'profile', t('shell.profile'))}
          {user.is_admin && navItem('/admin', 'admin', t('shell.admin'))}
        </ul>
        <section class="sidebar-section" aria-labelledby="sidebar-channels">
          <h2 id="sidebar-channels" class="sidebar-heading">
            {t('shell.channels')}
          </h2>
          <p class="sidebar-empty">{t('shell.channelsSoon')}</p>
        </section>
      </nav>
      <div class="scrim" aria-hidden="true" onClick={closeMenu} />

      <main id="main" class="main" tabIndex={-1}>
        {signOutError && <Alert>{signOutError}</Alert>}
        {content}
      </main>
    </div>
  );
}
