import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { NetworkError, api, chatApi, endPendingLogout, logoutPending, onEnrolmentRequired, type User } from '../api';
import { CallBar } from '../calls/CallBar';
import { CallsContext } from '../calls/context';
import { IncomingCall } from '../calls/IncomingCall';
import { CallManager } from '../calls/manager';
import { describeCall } from '../calls/names';
import { ChatClient, ChatContext } from '../chat/client';
import {
  eraseOfflineData,
  eraseOtherUsers,
  forgetSignedInUser,
  openOfflineCache,
  readOfflineSnapshot,
  rememberSignedInUser,
  type OfflineSnapshot,
} from '../chat/offline';
import { attentionTotal, channelTitle, tabTitle } from '../chat/logic';
import { allowUserData, lastChannelKey, userStorage } from '../chat/userData';
import { useStore } from '../chat/store';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Link } from '../components/Link';
import { Loading } from '../components/Loading';
import { Logo } from '../components/Logo';
import { describeError, isUnauthorized } from '../errors';
import { applyLanguage, onLocaleChange, t } from '../i18n';
import { channelPath, currentPath, loginPath, navigate, type Route } from '../router';
import { SessionContext, signOutHere, useSession } from '../session';
import { activeStatus, statusEmoji, statusLine } from '../status';
import { useLocale } from '../useLocale';
import { AdminView } from './AdminView';
import { Avatar } from './chat/Avatar';
import { ChannelView } from './chat/ChannelView';
import { ConnectionStatus } from './chat/ConnectionStatus';
import { Dialogs } from './chat/Dialogs';
import { Toast } from './chat/Toast';
import { ProfileCardHost } from './chat/ProfileCard';
import { SidePanel } from './chat/SidePanel';
import { Sidebar } from './chat/Sidebar';
import { openDialog, openPanel, ui } from './chat/ui';
import { PeopleView } from './PeopleView';
import { HomeView } from './HomeView';
import { NotFoundView } from './NotFoundView';
import { OfflineBanner } from './chat/OfflineBanner';
import { ProfileView } from './ProfileView';
import { TwoFactorRequiredView } from './TwoFactorRequiredView';

type ShellRoute = Extract<Route, { name: 'home' | 'profile' | 'people' | 'admin' | 'channel' | 'notFound' }>;

type LoadState =
  | { status: 'loading' }
  /** `saved`: the server could not be reached, so the app opened the device's copy (until it answers). */
  | { status: 'ready'; user: User; saved?: OfflineSnapshot }
  | { status: 'error'; message: string };

/**
 * The signed-in application: header, sidebar and the routed main area.
 * Loads the current user once; a 401 sends the browser to the sign-in page.
 * While the administrator requires two-step sign-in of the user and they have not set it
 * up, shows only that setup (the server refuses everything else meanwhile).
 */
export function Shell({ route }: { route: ShellRoute }) {
  const [state, setState] = useState<LoadState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const current = useRef(state);
  current.current = state;

  useEffect(() => {
    let cancelled = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      api.me().then(
        (user) => {
          if (cancelled) return;
          allowUserData(user.id);
          setState({ status: 'ready', user });
        },
        (err) => {
          if (cancelled) return;
          if (isUnauthorized(err)) {
            // The session ended: what this device saved of it goes too.
            void forgetSignedInUser();
            navigate(loginPath(currentPath()), { replace: true });
            return;
          }
          if (!(err instanceof NetworkError)) {
            setState({ status: 'error', message: describeError(err) });
            return;
          }
          // Server unreachable (e.g. the app opened offline from its cache): keep trying, and
          // meanwhile show the conversations this device saved, if any.
          retryTimer = setTimeout(() => setAttempt((n) => n + 1), 5000);
          if (current.current.status === 'ready') return;
          void readOfflineSnapshot().then((saved) => {
            if (cancelled || current.current.status === 'ready') return;
            if (saved) setState({ status: 'ready', user: saved.me, saved });
            else setState({ status: 'error', message: describeError(err) });
          });
        },
      );
    if (logoutPending()) {
      // Signed out here while the server could not be reached: that logout goes before anything
      // else, and whatever it gets, nobody is signed in on this browser.
      void endPendingLogout().then(() => {
        if (!cancelled) navigate(loginPath(currentPath()), { replace: true });
      });
    } else {
      load();
    }
    return () => {
      cancelled = true;
      clearTimeout(retryTimer);
    };
  }, [attempt]);

  // Requiring two-step sign-in takes effect at once: when a call is refused for it, ask the
  // server who we are again (that answer says so, and the setup replaces the app).
  useEffect(() => onEnrolmentRequired(() => setAttempt((n) => n + 1)), []);

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
  if (user.two_factor_required) {
    return <TwoFactorRequiredView user={user} onEnrolled={() => setAttempt((n) => n + 1)} />;
  }
  const saved = state.saved;
  return (
    <SessionContext.Provider value={{ user, setUser: (u) => setState({ status: 'ready', user: u }) }}>
      <ChatShell key={user.id} user={user} route={route} saved={saved ?? null} />
    </SessionContext.Provider>
  );
}

function ChatShell({ user, route, saved }: { user: User; route: ShellRoute; saved: OfflineSnapshot | null }) {
  const client = useMemo(() => {
    const c = new ChatClient(user);
    if (saved) c.seed(saved);
    return c;
  }, [user.id]);
  const offline = useMemo(() => openOfflineCache(user.id), [user.id]);
  const calls = useMemo(() => new CallManager(client), [client]);
  const { setUser } = useSession();
  const latest = useRef({ user, setUser });
  latest.current = { user, setUser };
  // Everything re-renders in a newly chosen language (the chat client stays connected), and
  // the page stays where it was scrolled to.
  const locale = useLocale();
  const scrolled = useRef<number | null>(null);
  useEffect(
    () =>
      onLocaleChange(() => {
        scrolled.current = document.getElementById('main')?.scrollTop ?? null;
      }),
    [],
  );
  useEffect(() => {
    if (scrolled.current === null) return;
    document.getElementById('main')?.scrollTo(0, scrolled.current);
    scrolled.current = null;
  }, [locale]);
  // The device keeps a copy of the recent conversations for reading without the server.
  useEffect(() => offline.attach(client), [offline, client]);
  const signedIn = !saved;
  useEffect(() => {
    if (!signedIn) return;
    // The server said who is signed in: whose copy to open next time it cannot answer, and
    // the only one this browser keeps.
    rememberSignedInUser(user.id);
    void eraseOtherUsers(user.id);
    // The copy may be opened without the server for as long as the server keeps this session.
    offline.saveVerified();
    chatApi.server().then(
      (info) => offline.saveSessionLifetime(info.session_idle_days),
      () => {},
    );
  }, [user.id, signedIn]);
  useEffect(() => {
    if (signedIn) offline.saveMe(user);
  }, [user, signedIn]);
  // The server answered again after the app opened from the saved copy: connect now.
  const wasSaved = useRef(saved !== null);
  useEffect(() => {
    if (wasSaved.current && !saved) client.reconnectNow();
    wasSaved.current = saved !== null;
  }, [saved]);
  useEffect(() => {
    client.onSignedOut = () => {
      void eraseOfflineData(user.id);
      navigate(loginPath(currentPath()), { replace: true });
    };
    client.onNotificationClick = (id, message) => {
      // A thread reply opens its thread beside the conversation; any other message is shown in context.
      if (message && message.thread_root !== null) {
        navigate(channelPath(id));
        openPanel({ type: 'thread', rootId: message.thread_root, channelId: id });
      } else {
        navigate(channelPath(id, message?.seq));
      }
    };
    // How others see me changed (here or on another device): the header and profile follow.
    client.onSelfUpdated = (p) => {
      const { user: u, setUser: set } = latest.current;
      set({
        ...u,
        display_name: p.display_name,
        title: p.title ?? u.title,
        department: p.department ?? u.department,
        phone: p.phone ?? u.phone,
        about: p.about ?? u.about,
        photo_url: p.photo_url ?? null,
        status: p.status ?? null,
      });
    };
    client.onPreferences = (prefs) => applyLanguage(prefs.language);
    calls.quiet = (call) => client.quietFor(call.channel_id);
    calls.describe = (call) => describeCall(call, user.id, client.state.people, client.state.channels);
    calls.start();
    client.start();
    // A handle for debugging in the console and for the e2e tests (it holds nothing the page cannot read anyway);
    // `__outpost.call` is the call manager (its `pc` is the active call's RTCPeerConnection).
    (window as unknown as { __outpost?: ChatClient }).__outpost = Object.assign(client, { call: calls });
    return () => {
      calls.stop();
      client.stop();
    };
  }, [client]);
  // A changed name, photo or job shows in messages and lists too: reload the people list.
  const shown = [user.display_name, user.photo_url ?? '', user.title ?? '', user.department ?? ''].join('\n');
  const firstShown = useRef(shown);
  useEffect(() => {
    if (shown === firstShown.current) return;
    firstShown.current = shown;
    chatApi.people().then((list) => client.setPeople(list), () => {});
  }, [shown]);
  return (
    <ChatContext.Provider value={client}>
      <CallsContext.Provider value={calls}>
        <ShellFrame key={locale} user={user} route={route} client={client} />
      </CallsContext.Provider>
    </ChatContext.Provider>
  );
}

function ShellFrame({ user, route, client }: { user: User; route: ShellRoute; client: ChatClient }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const [searchText, setSearchText] = useState('');
  const channels = useStore(client.store, (s) => s.channels);
  const people = useStore(client.store, (s) => s.people);
  const ready = useStore(client.store, (s) => s.ready);
  const panel = useStore(ui, (s) => s.panel);

  // Escape closes the phone-size navigation drawer.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        openDialog('switcher');
        return;
      }
      if (event.altKey && !event.ctrlKey && !event.metaKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
        // Alt+Up / Alt+Down: previous / next conversation in the sidebar order.
        const links = [...document.querySelectorAll<HTMLAnchorElement>('#sidebar .ch-link')];
        if (!links.length) return;
        event.preventDefault();
        const at = links.findIndex((a) => a.getAttribute('aria-current') === 'page');
        const next = event.key === 'ArrowDown' ? (at + 1) % links.length : (at - 1 + links.length) % links.length;
        const href = links[at < 0 ? 0 : next]!.getAttribute('href');
        if (href) navigate(href);
        return;
      }
      if (event.key === 'Escape' && menuOpen) setMenuOpen(false);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [menuOpen]);

  // A new page starts at its top (the main area, not the window, scrolls).
  useEffect(() => {
    document.getElementById('main')?.scrollTo(0, 0);
  }, [route.name]);

  // Remember the channel; "/" opens the last one (or the first).
  useEffect(() => {
    if (route.name === 'channel') {
      try {
        userStorage(user.id).setItem(lastChannelKey(user.id), String(route.id));
      } catch {
        // ignore
      }
    }
  }, [route]);

  useEffect(() => {
    if (route.name !== 'home' || !ready) return;
    let last: number | null = null;
    try {
      last = Number(userStorage(user.id).getItem(lastChannelKey(user.id))) || null;
    } catch {
      // ignore
    }
    const open = [...channels.values()].filter((c) => !c.archived);
    const target =
      (last !== null && channels.get(last)) ||
      open.filter((c) => c.kind === 'public' || c.kind === 'private').sort((a, b) => a.id - b.id)[0] ||
      open[0];
    if (target) navigate(channelPath(target.id), { replace: true });
  }, [route, ready, channels]);

  // The tab title: unread counts, then the page.
  const currentChannel = route.name === 'channel' ? channels.get(route.id) : undefined;
  const page =
    route.name === 'channel'
      ? currentChannel
        ? (currentChannel.kind === 'public' || currentChannel.kind === 'private' ? '#' : '') +
          channelTitle(currentChannel, user.id, people)
        : ''
      : route.name === 'profile'
        ? t('profile.title')
        : route.name === 'people'
          ? t('people.title')
          : route.name === 'admin'
            ? t('admin.title')
            : '';
  const now = Date.now();
  const title = tabTitle([...channels.values()], page, t('app.name'), now);
  const attention = attentionTotal([...channels.values()], now);
  useEffect(() => {
    document.title = title;
  });
  // The installed app's icon shows the same count (where the browser supports badges).
  useEffect(() => {
    const nav = typeof navigator === 'undefined' ? undefined : (navigator as Navigator & {
      setAppBadge?: (n: number) => Promise<void>;
      clearAppBadge?: () => Promise<void>;
    });
    try {
      const done = attention > 0 ? nav?.setAppBadge?.(attention) : nav?.clearAppBadge?.();
      done?.catch(() => {});
    } catch {
      // not allowed here
    }
  }, [attention]);
  const status = activeStatus(user.status);

  async function signOut() {
    if (signingOut) return;
    // The outbox goes with the rest: say so while it can still be sent.
    const unsent = client.state.outbox.length;
    if (unsent > 0 && !window.confirm(t('shell.confirmSignOutUnsent', { n: unsent }))) return;
    setSigningOut(true);
    client.stop();
    await signOutHere(user.id);
    navigate('/login', { replace: true });
  }

  const closeMenu = () => setMenuOpen(false);

  let content;
  switch (route.name) {
    case 'home':
      content = <HomeView />;
      break;
    case 'channel':
      content = <ChannelView key={route.id} channelId={route.id} seq={route.seq} thread={route.thread ?? null} />;
      break;
    case 'profile':
      content = <ProfileView />;
      break;
    case 'people':
      content = <PeopleView />;
      break;
    case 'admin':
      content = user.is_admin ? <AdminView tab={route.tab} /> : <NotFoundView />;
      break;
    default:
      content = <NotFoundView />;
  }
  const chatLayout = route.name === 'channel' || route.name === 'home';

  return (
    <div class={`shell${menuOpen ? ' menu-open' : ''}${panel ? ' panel-open' : ''}`}>
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
        <form
          class="topbar-search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            const q = searchText.trim();
            if (q) openPanel({ type: 'search', query: q });
          }}
        >
          <label class="visually-hidden" for="global-search">
            {t('search.label')}
          </label>
          <input
            id="global-search"
            class="search-input"
            type="search"
            placeholder={t('search.placeholder')}
            value={searchText}
            onInput={(e) => setSearchText(e.currentTarget.value)}
            autoComplete="off"
          />
        </form>
        <ConnectionStatus />
        <div class="topbar-user">
          <button
            type="button"
            class="icon-btn status-btn"
            aria-haspopup="dialog"
            aria-label={status ? t('status.yours', { status: statusLine(status) }) : t('status.set')}
            title={status ? statusLine(status) : t('status.set')}
            onClick={() => openDialog('status')}
          >
            {status ? (
              <span class="status-btn-emoji" aria-hidden="true">
                {statusEmoji(status)}
              </span>
            ) : (
              <svg width="18" height="18" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
                <circle cx="8" cy="8" r="6" class="icon-stroke" />
                <path d="M5.5 9.5c1.2 1.6 3.8 1.6 5 0" class="icon-stroke" />
                <circle cx="6" cy="6.5" r="0.8" class="icon-fill" />
                <circle cx="10" cy="6.5" r="0.8" class="icon-fill" />
              </svg>
            )}
          </button>
          <Avatar id={user.id} name={user.display_name || user.username} size="s" photo={user.photo_url} />
          <span class="topbar-name" title={t('shell.signedInAs', { name: user.username })}>
            {user.display_name || user.username}
          </span>
          <Button variant="ghost" size="small" busy={signingOut} onClick={signOut}>
            {signingOut ? t('shell.signingOut') : t('shell.signOut')}
          </Button>
        </div>
      </header>

      <Sidebar route={route} onNavigate={closeMenu} onSignOut={() => void signOut()} />
      <div class="scrim" aria-hidden="true" onClick={closeMenu} />

      <main id="main" class={chatLayout ? 'main main-chat' : 'main'} tabIndex={-1}>
        <CallBar />
        <OfflineBanner />
        {content}
      </main>
      <SidePanel />
      <Dialogs />
      <Toast />
      <ProfileCardHost />
      <IncomingCall />
    </div>
  );
}
