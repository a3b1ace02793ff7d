// @vitest-environment happy-dom
//
// The whole app opening the device's saved copy when the server cannot be reached, and
// erasing it when the session ends (issue #21). IndexedDB comes from fake-indexeddb.

import 'fake-indexeddb/auto';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type Channel, type Message, type User } from './api';
import { App } from './app';
import { LAST_USER_KEY, OfflineCache, offlineDbName, rememberSignedInUser } from './chat/offline';
import { setLocale } from './i18n';

const alice: User = { id: 1, username: 'alice', display_name: 'Alice Liddell', is_admin: false, disabled: false, created_at: '' };

const general: Channel = {
  id: 5,
  kind: 'public',
  name: 'general',
  topic: '',
  archived: false,
  last_seq: 1,
  created_at: 0,
  role: 'member',
  last_read_seq: 1,
  unread: 0,
  mentions: 0,
  member_ids: [],
};

const hello: Message = {
  id: 50,
  channel_id: 5,
  seq: 1,
  author_id: 2,
  client_id: null,
  kind: 'text',
  body: 'Saved hello from Bob',
  thread_root: null,
  reply_count: 0,
  last_reply_at: null,
  created_at: Date.UTC(2026, 0, 31, 12, 0),
  edited_at: null,
  edited: false,
  deleted: false,
  pinned: false,
  reactions: [],
};

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
  cache.saveChannels([general]);
  cache.savePeople(new Map([[2, { id: 2, username: 'bob', display_name: 'Bob', presence: 'online' }]]));
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
  root = document.createElement('div');
  document.body.append(root);
});

afterEach(async () => {
  await act(() => render(null, root));
  root.remove();
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
    setFetch(async (url, init) => {
      const key = `${init.method} ${url}`;
      if (key === 'GET /api/v1/me') return json(200, alice);
      if (key === 'GET /api/v1/sessions') return json(200, []);
      if (key === 'POST /api/v1/auth/logout') return new Response(null, { status: 204 });
      return json(404, { error: { code: 'not-found', message: '' } });
    });
    await open('/profile');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Profile'));
    expect(localStorage.getItem(LAST_USER_KEY)).toBe('1');
    const signOut = [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Sign out')!;
    await act(() => signOut.click());
    await settle(() => expect(location.pathname).toBe('/login'));
    await settle(async () => expect(await databaseNames()).not.toContain(offlineDbName(alice.id)));
    expect(localStorage.getItem(LAST_USER_KEY)).toBeNull();
  });
});
