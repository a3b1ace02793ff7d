// A tiny client-side router over `location.pathname` + History API.
//
// `parseRoute` is pure (and unit tested); `navigate` pushes a new history
// entry and notifies subscribers; `useRoute` re-renders a component when the
// location changes (link clicks, back/forward).

import { useEffect, useState } from 'preact/hooks';

/** The sections of the administration page: `/admin` (users), `/admin/channels`, `/admin/links`, … */
export const ADMIN_TABS = ['users', 'channels', 'links', 'settings', 'server', 'audit'] as const;
export type AdminTab = (typeof ADMIN_TABS)[number];

export type Route =
  | { name: 'setup'; token: string }
  | { name: 'reset'; token: string }
  | { name: 'login'; next: string | null }
  | { name: 'invite'; token: string }
  | { name: 'home' }
  | { name: 'profile' }
  | { name: 'people' }
  | { name: 'admin'; tab: AdminTab }
  /** `seq`: one message shown in context (`?m=SEQ`); `thread`: the thread it is a reply in (`&t=ROOT`). */
  | { name: 'channel'; id: number; seq: number | null; thread?: number | null }
  | { name: 'notFound'; path: string };

/** Routes rendered without a signed-in user. Everything else lives in the app shell. */
export type PublicRoute = Extract<Route, { name: 'setup' | 'login' | 'invite' | 'reset' }>;

export function isPublicRoute(route: Route): route is PublicRoute {
  return route.name === 'setup' || route.name === 'login' || route.name === 'invite' || route.name === 'reset';
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/**
 * Only same-origin absolute paths are accepted as a post-login destination,
 * so `?next=` cannot send the user to another site (`//evil`, `https://…`,
 * `/\evil`), nor back to a public page.
 */
export function safeNext(value: string | null | undefined): string | null {
  if (!value || !value.startsWith('/')) return null;
  if (value.startsWith('//') || value.startsWith('/\\')) return null;
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  const path = value.split(/[?#]/)[0] ?? '';
  const target = parseRoute(path, '');
  if (isPublicRoute(target)) return null;
  return value;
}

/** Maps a pathname and query string (`?a=b` or `a=b`) to a route. */
export function parseRoute(pathname: string, search: string): Route {
  const params = new URLSearchParams(search);
  // Ignore a single trailing slash ("/login/" is "/login").
  const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  const parts = path.split('/').slice(1);

  switch (path) {
    case '':
    case '/':
      return { name: 'home' };
    case '/login':
      return { name: 'login', next: safeNext(params.get('next')) };
    case '/setup':
      return { name: 'setup', token: params.get('token') ?? '' };
    case '/profile':
      return { name: 'profile' };
    case '/people':
      return { name: 'people' };
    case '/admin':
      return { name: 'admin', tab: 'users' };
  }

  if (parts.length === 2 && parts[0] === 'admin' && (ADMIN_TABS as readonly string[]).includes(parts[1] ?? '')) {
    return { name: 'admin', tab: parts[1] as AdminTab };
  }

  if (parts.length === 2 && parts[0] === 'c' && /^[1-9]\d{0,15}$/.test(parts[1] ?? '')) {
    const seqText = params.get('m');
    const seq = seqText && /^\d{1,16}$/.test(seqText) ? Number(seqText) : null;
    const threadText = params.get('t');
    const thread = seq !== null && threadText && /^[1-9]\d{0,15}$/.test(threadText) ? Number(threadText) : null;
    return thread !== null ? { name: 'channel', id: Number(parts[1]), seq, thread } : { name: 'channel', id: Number(parts[1]), seq };
  }
  if (parts.length === 2 && parts[0] === 'invite' && parts[1]) {
    const token = decodeSegment(parts[1]);
    if (token) return { name: 'invite', token };
  }
  if (parts.length === 2 && parts[0] === 'reset' && parts[1]) {
    const token = decodeSegment(parts[1]);
    if (token) return { name: 'reset', token };
  }
  return { name: 'notFound', path: pathname };
}

/** The path of the sign-in page that returns to `from` afterwards. */
export function loginPath(from?: string): string {
  const next = safeNext(from);
  return next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login';
}

type Listener = () => void;
const listeners = new Set<Listener>();
let navigated = false;

function notify(): void {
  navigated = true;
  for (const listener of listeners) listener();
}

/** True once the user moved within the app (used to move focus to new pages). */
export function hasNavigated(): boolean {
  return navigated;
}

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', notify);
}

export function currentRoute(): Route {
  return parseRoute(location.pathname, location.search);
}

/** The current path with its query, e.g. `/profile` — for `loginPath()`. */
export function currentPath(): string {
  return location.pathname + location.search;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === currentPath()) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.scrollTo(0, 0);
  notify();
}

/** The path of a section of the administration page. */
export function adminPath(tab: AdminTab): string {
  return tab === 'users' ? '/admin' : `/admin/${tab}`;
}

/** The path of a channel, optionally pointing at one message (`?m=SEQ`). */
export function channelPath(id: number, seq?: number | null): string {
  return seq != null ? `/c/${id}?m=${seq}` : `/c/${id}`;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current route; the component re-renders on navigation. */
export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    update();
    return subscribe(update);
  }, []);
  return route;
}

/**
 * Whether a click on an in-app link should be handled by the router rather
 * than the browser (new tab, download, modified clicks stay with the browser).
 */
export function shouldInterceptClick(event: MouseEvent): boolean {
  return (
    !event.defaultPrevented &&
    event.button === 0 &&
    !event.metaKey &&
    !event.ctrlKey &&
    !event.shiftKey &&
    !event.altKey
  );
}
