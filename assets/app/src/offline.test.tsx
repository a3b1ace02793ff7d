// @vitest-environment happy-dom
//
// The whole app opening the device's saved copy when the server cannot be reached, and
// erasing it when the session ends (issue #21). IndexedDB comes from fake-indexeddb.

import 'fake-indexeddb/auto';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOGOUT_PENDING_KEY, setFetch } from './api';
import { App } from './app';
import { LAST_USER_KEY, OfflineCache, offlineDbName, rememberSignedInUser } from './chat/offline';
import { draftKey, outboxKey } from './chat/userData';
import { channel, message, mountRoot, person, unmountRoot, user } from './fixtures.test-util';
import { setLocale } from './i18n';
import { formatWhen } from './views/chat/MessageItem';

const alice = user({ display_name: 'Alice Liddell' });

const general = channel({ id: 5, last_seq: 1, last_read_seq: 1 });

const hello = message({ id: 50, channel_id: 5, seq: 1, body: 'Saved hello from Bob', created_at: Date.UTC(2026, 0, 31, 12, 0) });

/** A socket that never connects: the server is not there. */
class SilentSocket {
  readyState = 0;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  send(): void {}
  close(): void {}
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

let root: HTMLElement;

async function saveCopy(): Promise<void> {
  const cache = new OfflineCache(alice.id, { writeDelayMs: 0, fetchThumb: async () => null });
  cache.saveMe(alice);
  cache.saveVerified(Date.now() - 60_000);
  cache.saveChannels([general]);
  cache.savePeople(new Map([[2, person()]]));
  cache.saveHistory(5, { items: [hello], hasOlder: false, hasNewer: false, loading: null, error: null });
  await cache.settled();
  cache.close();
  rememberSignedInUser(alice.id);
}

async function databaseNames(): Promise<string[]> {
  return (await indexedDB.databases()).map((d) => d.name ?? '');
}

async function open(path: string) {
  history.replaceState(null, '', path);
  await act(() => render(<App />, root));
}

const settle = (check: () => void | Promise<void>) => vi.waitFor(check, { timeout: 2000, interval: 10 });

beforeEach(() => {
  setLocale('en');
  vi.stubGlobal('WebSocket', SilentSocket);
  root = mountRoot();
});

afterEach(async () => {
  await unmountRoot(root);
  vi.unstubAllGlobals();
  for (const name of await databaseNames()) indexedDB.deleteDatabase(name);
  localStorage.clear();
});

describe('reading without the server', () => {
  it('opens the saved conversations with a banner when the server cannot be reached', async () => {
    await saveCopy();
    setFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    await open('/c/5');
    await settle(() => expect(root.querySelector('[data-testid="offline-banner"]')?.textContent).toContain('The server cannot be reached.'));
    await settle(() => expect(root.querySelector('.channel')?.textContent).toContain('Saved hello from Bob'));
    // How old the copy is: when it last took in the server's data (just now, in saveCopy).
    const age = root.querySelector<HTMLElement>('.offline-banner-age')!;
    const savedAt = Number(age.dataset.syncedAt);
    expect(Date.now() - savedAt).toBeLessThan(60_000);
    expect(age.textContent).toBe(`Saved ${formatWhen(savedAt)}`);
    expect(root.querySelector('[role=status] [data-testid="offline-banner"]')).not.toBeNull();
    expect(root.querySelector('#sidebar')?.textContent).toContain('general');
    expect(root.querySelector('.topbar-name')?.textContent).toBe('Alice Liddell');
  });

  it('shows the error as before when nothing is saved', async () => {
    setFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    await open('/c/5');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Could not load your account.'));
  });

  it('a session that ended (401) erases the saved copy', async () => {
    await saveCopy();
    setFetch(async () => json(401, { error: { code: 'unauthorized', message: 'Sign in first' } }));
    await open('/c/5');
    await settle(() => expect(location.pathname).toBe('/login'));
    await settle(async () => expect(await databaseNames()).not.toContain(offlineDbName(alice.id)));
    expect(localStorage.getItem(LAST_USER_KEY)).toBeNull();
  });

  it('signing out erases the saved copy', async () => {
    await saveCopy();
    const asked: string[] = [];
    setFetch(async (url, init) => {
      const key = `${init.method} ${url}`;
      asked.push(key);
      if (key === 'GET /api/v1/me') return json(200, alice);
      if (key === 'GET /api/v1/sessions') return json(200, []);
      if (key === 'POST /api/v1/auth/logout') return new Response(null, { status: 204 });
      return json(404, { error: { code: 'not-found', message: '' } });
    });
    await open('/profile');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Profile'));
    // Started: the app asked for the session lifetime, as it does once the server confirmed the session.
    await settle(() => expect(asked).toContain('GET /api/v1/server'));
    expect(localStorage.getItem(LAST_USER_KEY)).toBe('1');
    const signOut = [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Sign out')!;
    await act(() => signOut.click());
    await settle(() => expect(location.pathname).toBe('/login'));
    await settle(async () => expect(await databaseNames()).not.toContain(offlineDbName(alice.id)));
    expect(localStorage.getItem(LAST_USER_KEY)).toBeNull();
  });

  /** The server answers the app's start as usual; `logout` decides how the logout goes. */
  function server(logout: () => Promise<Response>, asked: string[] = []) {
    setFetch(async (url, init) => {
      const key = `${init.method} ${url}`;
      asked.push(key);
      if (key === 'GET /api/v1/me') return json(200, alice);
      if (key === 'GET /api/v1/sessions') return json(200, []);
      if (key === 'GET /api/v1/server') return json(200, { site_name: 'Outpost', version: '1', ca_fingerprint: '', needs_setup: false, session_idle_days: 7 });
      if (key === 'POST /api/v1/auth/logout') return logout();
      return json(404, { error: { code: 'not-found', message: '' } });
    });
    return asked;
  }

  async function signOutFromProfile(asked: string[]): Promise<void> {
    await open('/profile');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Profile'));
    await settle(() => expect(asked).toContain('GET /api/v1/server'));
    const signOut = [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Sign out')!;
    await act(() => signOut.click());
  }

  it('signing out while the server cannot be reached erases the device’s data all the same, and owes the logout', async () => {
    await saveCopy();
    localStorage.setItem(draftKey(alice.id, 5, null), 'half a sentence');
    const asked = server(() => Promise.reject(new TypeError('Failed to fetch')));
    await signOutFromProfile(asked);
    await settle(() => expect(location.pathname).toBe('/login'));
    await settle(async () => expect(await databaseNames()).not.toContain(offlineDbName(alice.id)));
    expect(localStorage.getItem(LAST_USER_KEY)).toBeNull();
    expect(localStorage.getItem(draftKey(alice.id, 5, null))).toBeNull();
    expect(asked).toContain('POST /api/v1/auth/logout');
    expect(localStorage.getItem(LOGOUT_PENDING_KEY)).toBe('1');
    // The sign-in page says the server session ends once the server can be reached.
    await settle(() => expect(root.querySelector('.alert')?.textContent).toContain('your session there ends as soon as it can be'));
  });

  it('the next start sends the owed logout before anything else, and opens the sign-in page', async () => {
    localStorage.setItem(LOGOUT_PENDING_KEY, '1');
    const asked = server(async () => new Response(null, { status: 204 }));
    await open('/c/5');
    await settle(() => expect(location.pathname).toBe('/login'));
    expect(asked[0]).toBe('POST /api/v1/auth/logout');
    expect(asked).not.toContain('GET /api/v1/me');
    await settle(() => expect(localStorage.getItem(LOGOUT_PENDING_KEY)).toBeNull());
    await settle(() => expect(root.querySelector('.alert')).toBeNull());
  });

  it('a server that is still away at the next start: the sign-in page, the logout still owed', async () => {
    localStorage.setItem(LOGOUT_PENDING_KEY, '1');
    const asked = server(() => Promise.reject(new TypeError('Failed to fetch')));
    await open('/c/5');
    await settle(() => expect(location.pathname).toBe('/login'));
    expect(asked).not.toContain('GET /api/v1/me');
    expect(localStorage.getItem(LOGOUT_PENDING_KEY)).toBe('1');
    await settle(() => expect(root.querySelector('.alert')?.textContent).toContain('You are signed out on this device'));
  });

  it('asks before signing out while messages wait in the outbox, which goes with the rest', async () => {
    await saveCopy();
    const waiting = { client_id: 'c1', channel_id: 5, thread_root: null, body: 'Not sent yet', created_at: 1, state: 'pending' };
    localStorage.setItem(outboxKey(alice.id), JSON.stringify([waiting]));
    const confirm = vi.fn(() => false);
    vi.stubGlobal('confirm', confirm);
    const asked = server(async () => new Response(null, { status: 204 }));
    await signOutFromProfile(asked);
    expect(confirm).toHaveBeenCalledWith('1 unsent message will be lost. Sign out anyway?');
    // Declined: nothing happened.
    expect(location.pathname).toBe('/profile');
    expect(asked).not.toContain('POST /api/v1/auth/logout');
    expect(localStorage.getItem(outboxKey(alice.id))).not.toBeNull();
    expect(await databaseNames()).toContain(offlineDbName(alice.id));

    confirm.mockReturnValue(true);
    const signOut = [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Sign out')!;
    await act(() => signOut.click());
    await settle(() => expect(location.pathname).toBe('/login'));
    expect(localStorage.getItem(outboxKey(alice.id))).toBeNull();
    await settle(async () => expect(await databaseNames()).not.toContain(offlineDbName(alice.id)));
  });
});
