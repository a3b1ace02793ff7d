// @vitest-environment happy-dom
//
// Renders the whole app against a fake API to check the flows end to end.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch } from './api';
import { App } from './app';
import { setLocale } from './i18n';

type Handler = (init: RequestInit) => Response | Promise<Response>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
const apiError = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  json(status, { error: { code, message } }, headers);

const alice = {
  id: 1,
  username: 'alice',
  display_name: 'Alice Liddell',
  is_admin: true,
  disabled: false,
  created_at: '2025-01-01T00:00:00Z',
};

let root: HTMLElement;
let routes: Record<string, Handler>;
let calls: { key: string; body: unknown }[];

function fakeApi(handlers: Record<string, Handler>) {
  routes = handlers;
  calls = [];
  setFetch(async (url, init) => {
    const key = `${init.method} ${url}`;
    calls.push({ key, body: init.body ? JSON.parse(init.body as string) : undefined });
    const handler = routes[key];
    if (!handler) return apiError(404, 'not-found', `no fake for ${key}`);
    return handler(init);
  });
}

async function open(path: string) {
  history.replaceState(null, '', path);
  await act(() => render(<App />, root));
}

async function type(label: string, value: string) {
  const input = screenInput(label);
  await act(() => {
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

function screenInput(label: string): HTMLInputElement {
  const labelEl = [...root.querySelectorAll('label')].find((l) => l.textContent === label);
  if (!labelEl) throw new Error(`no label ${label}`);
  return root.querySelector(`#${CSS.escape(labelEl.htmlFor)}`) as HTMLInputElement;
}

async function submit() {
  const form = root.querySelector('form')!;
  await act(() => {
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
}

function button(text: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === text);
  if (!found) throw new Error(`no button ${text}`);
  return found;
}

const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });

beforeEach(() => {
  setLocale('en');
  root = document.createElement('div');
  document.body.append(root);
});

afterEach(async () => {
  await act(() => render(null, root));
  root.remove();
});

describe('sign in', () => {
  it('shows a clear message for wrong credentials', async () => {
    fakeApi({ 'POST /api/v1/auth/login': () => apiError(401, 'invalid-credentials', 'Invalid') });
    await open('/login');
    await type('User name', ' alice ');
    await type('Password', 'wrong');
    await submit();
    await settle(() =>
      expect(root.querySelector('[role="alert"]')?.textContent).toBe('Wrong user name or password.'),
    );
    expect(calls[0]).toEqual({
      key: 'POST /api/v1/auth/login',
      body: { username: 'alice', password: 'wrong' },
    });
    expect(screenInput('Password').value).toBe('');
  });

  it('shows the Retry-After delay when rate limited', async () => {
    fakeApi({
      'POST /api/v1/auth/login': () => apiError(429, 'too-many-attempts', 'Slow down', { 'Retry-After': '30' }),
    });
    await open('/login');
    await type('User name', 'alice');
    await type('Password', 'pw');
    await submit();
    await settle(() =>
      expect(root.querySelector('[role="alert"]')?.textContent).toBe(
        'Too many attempts, try again in 30 seconds.',
      ),
    );
  });

  it('goes to ?next= after signing in, and the shell shows the user', async () => {
    fakeApi({
      'POST /api/v1/auth/login': () => json(200, { token: 'tok', user: alice }),
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/sessions': () => json(200, []),
    });
    await open('/login?next=%2Fprofile');
    await type('User name', 'alice');
    await type('Password', 'secret');
    await submit();
    await settle(() => expect(location.pathname).toBe('/profile'));
    await settle(() => expect(root.querySelector('.topbar-name')?.textContent).toBe('Alice Liddell'));
    expect(root.querySelector('h1')?.textContent).toBe('Profile');
  });
});

describe('app shell', () => {
  it('redirects to sign in when there is no session', async () => {
    fakeApi({ 'GET /api/v1/me': () => apiError(401, 'unauthorized', 'Sign in first') });
    await open('/admin');
    await settle(() => expect(location.pathname + location.search).toBe('/login?next=%2Fadmin'));
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Sign in to Outpost'));
  });

  it('signs out', async () => {
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/sessions': () => json(200, []),
      'POST /api/v1/auth/logout': () => new Response(null, { status: 204 }),
    });
    await open('/profile');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Profile'));
    await act(() => button('Sign out').click());
    await settle(() => expect(location.pathname).toBe('/login'));
    expect(calls.map((c) => c.key)).toContain('POST /api/v1/auth/logout');
  });

  it('hides the admin page from non-admins', async () => {
    fakeApi({ 'GET /api/v1/me': () => json(200, { ...alice, is_admin: false }) });
    await open('/admin');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Page not found'));
    expect(root.querySelector('a[href="/admin"]')).toBeNull();
  });
});

describe('setup', () => {
  it('checks that the passwords match before sending', async () => {
    fakeApi({ 'POST /api/v1/auth/setup': () => json(200, {}) });
    await open('/setup?token=XYZ');
    await type('User name', 'admin');
    await type('Display name', 'Admin');
    await type('Password', 'one-password');
    await type('Repeat password', 'another');
    await submit();
    expect(root.textContent).toContain('The passwords do not match.');
    expect(calls).toHaveLength(0);

    await type('Repeat password', 'one-password');
    await submit();
    await settle(() => expect(location.pathname).toBe('/'));
    expect(calls[0]).toEqual({
      key: 'POST /api/v1/auth/setup',
      body: { token: 'XYZ', username: 'admin', display_name: 'Admin', password: 'one-password' },
    });
  });
});

describe('invite', () => {
  it('explains an invalid invitation', async () => {
    fakeApi({ 'GET /api/v1/invites/bad': () => apiError(404, 'invite-not-found', 'No such invite') });
    await open('/invite/bad');
    await settle(() => expect(root.textContent).toContain('This invitation link is invalid'));
  });
});
