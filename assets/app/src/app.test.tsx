// @vitest-environment happy-dom
//
// Renders the whole app against a fake API to check the flows end to end.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch } from './api';
import { App } from './app';
import { mountRoot, unmountRoot } from './fixtures.test-util';
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
  root = mountRoot();
});

afterEach(async () => {
  await unmountRoot(root);
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
    fakeApi({
      'GET /api/v1/auth/setup/XYZ': () => json(200, { valid: true }),
      'POST /api/v1/auth/setup': () => json(200, {}),
      'POST /api/v1/invites': () => json(200, { token: 'INV', path: '/invite/INV', expires_at: '2030-01-04T10:00:00Z' }),
      'GET /api/v1/server': () => json(200, { site_name: 'Outpost', version: '1', ca_fingerprint: 'AB', needs_setup: false, http_port: 8080 }),
      'GET /api/v1/channels': () => json(200, [{ id: 5, kind: 'public', name: 'general', topic: '', archived: false, last_seq: 0, created_at: 0 }]),
    });
    await open('/setup?token=XYZ');
    await settle(() => expect(root.querySelector('label')).not.toBeNull());
    await type('User name', 'admin');
    await type('Display name', 'Admin');
    await type('Password', 'one-password');
    await type('Repeat password', 'another');
    await submit();
    expect(root.textContent).toContain('The passwords do not match.');
    expect(calls.map((c) => c.key)).toEqual(['GET /api/v1/auth/setup/XYZ']);

    await type('Repeat password', 'one-password');
    await submit();
    expect(calls[1]).toEqual({
      key: 'POST /api/v1/auth/setup',
      body: { token: 'XYZ', username: 'admin', display_name: 'Admin', password: 'one-password' },
    });
    // The invite step: a link to copy with its QR code, and the address for phones with its own.
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Invite your people'));
    await settle(() => expect(root.querySelectorAll('img.qr-image')).toHaveLength(2));
    const inviteUrl = `${location.origin}/invite/INV`;
    const phonesUrl = `http://${location.hostname}:8080/`;
    expect(screenInput('Invitation link').value).toBe(inviteUrl);
    expect(screenInput('Address for phones').value).toBe(phonesUrl);
    const qrs = [...root.querySelectorAll('img.qr-image')].map((i) => i.getAttribute('src'));
    expect(qrs).toEqual([`/api/v1/qr?text=${encodeURIComponent(inviteUrl)}`, `/api/v1/qr?text=${encodeURIComponent(phonesUrl)}`]);
    expect(calls.find((c) => c.key === 'POST /api/v1/invites')?.body).toEqual({ expires_in_hours: 72 });
    // Then into #general.
    await click('Continue to Outpost');
    await settle(() => expect(location.pathname).toBe('/c/5'));
  });

  it('says when the setup link was used or has expired, without a form', async () => {
    fakeApi({ 'GET /api/v1/auth/setup/OLD': () => apiError(404, 'invalid-token', 'invalid or expired token') });
    await open('/setup?token=OLD');
    await settle(() => expect(alerts()).toEqual(['This setup link was already used or has expired.']));
    expect(root.querySelector('form')).toBeNull();
    expect(root.querySelector('a[href="/login"]')?.textContent).toBe('Go to sign in');
  });
});

describe('invite', () => {
  it('explains an invalid invitation', async () => {
    fakeApi({ 'GET /api/v1/invites/bad': () => apiError(404, 'invite-not-found', 'No such invite') });
    await open('/invite/bad');
    await settle(() => expect(root.textContent).toContain('This invitation link is invalid'));
  });
});

/** Submits the form that holds the field labelled `label`. */
async function submitFor(label: string) {
  const form = screenInput(label).form!;
  await act(() => {
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
}

async function click(text: string) {
  await act(() => button(text).click());
}

const alerts = () => [...root.querySelectorAll('[role="alert"]')].map((a) => a.textContent);
const codes = Array.from({ length: 10 }, (_, i) => `abc${i}-de2${i}`);
const enrolment = {
  secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  uri: 'otpauth://totp/Outpost:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Outpost',
  qr_svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29"><path d="M0 0h7v7H0z"/></svg>',
};

describe('two-step sign-in at sign-in', () => {
  function loginApi(check: (body: { username: string; password: string; code?: string }) => Response) {
    fakeApi({
      'POST /api/v1/auth/login': (init) => check(JSON.parse(init.body as string)),
      'GET /api/v1/me': () => json(200, { ...alice, two_factor: true }),
      'GET /api/v1/sessions': () => json(200, []),
    });
  }

  it('asks for the code after the password, then sends both again', async () => {
    loginApi(({ code }) =>
      code === undefined
        ? apiError(401, 'second-factor-required', 'enter the code from your authenticator app')
        : code === '123456'
          ? json(200, { token: 'tok', user: alice })
          : apiError(401, 'wrong-code', 'wrong code'),
    );
    await open('/login?next=%2Fprofile');
    await type('User name', 'alice');
    await type('Password', 'secret');
    await submit();
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Two-step sign-in'));
    const field = screenInput('Code from the app');
    expect(field.getAttribute('inputmode')).toBe('numeric');
    expect(field.getAttribute('autocomplete')).toBe('one-time-code');
    await settle(() => expect(document.activeElement).toBe(field));
    expect(alerts()).toEqual([]);

    // A code of the wrong shape is not sent.
    await type('Code from the app', '12345');
    await submitFor('Code from the app');
    expect(root.textContent).toContain('Enter the 6 digits the app shows.');
    expect(calls).toHaveLength(1);

    await type('Code from the app', '654321');
    await submitFor('Code from the app');
    await settle(() => expect(alerts()).toEqual(['Wrong code. Try again.']));
    expect(screenInput('Code from the app').value).toBe('');
    expect(root.textContent).not.toContain('wrong code');

    await type('Code from the app', '123 456');
    await submitFor('Code from the app');
    await settle(() => expect(location.pathname).toBe('/profile'));
    expect(calls.filter((c) => c.key === 'POST /api/v1/auth/login').map((c) => c.body)).toEqual([
      { username: 'alice', password: 'secret' },
      { username: 'alice', password: 'secret', code: '654321' },
      { username: 'alice', password: 'secret', code: '123456' },
    ]);
  });

  it('takes a recovery code instead', async () => {
    loginApi(({ code }) =>
      code === 'abcd-ef23' ? json(200, { token: 'tok', user: alice }) : apiError(401, 'second-factor-required', 'x'),
    );
    await open('/login');
    await type('User name', 'alice');
    await type('Password', 'secret');
    await submit();
    await settle(() => screenInput('Code from the app'));
    await click('Use a recovery code instead');
    const field = screenInput('Recovery code');
    expect(field.getAttribute('inputmode')).toBe('text');
    await settle(() => expect(document.activeElement).toBe(field));
    expect(root.textContent).toContain('Each code works once.');
    await type('Recovery code', 'ABCD EF23');
    await submitFor('Recovery code');
    await settle(() => expect(location.pathname).toBe('/'));
    expect(calls.find((c) => (c.body as { code?: string } | undefined)?.code)?.body).toEqual({
      username: 'alice',
      password: 'secret',
      code: 'abcd-ef23',
    });
  });

  it('goes back to the password, and says when to wait', async () => {
    loginApi(({ code }) =>
      code === undefined
        ? apiError(401, 'second-factor-required', 'x')
        : apiError(429, 'rate-limited', 'slow down', { 'Retry-After': '30' }),
    );
    await open('/login');
    await type('User name', 'alice');
    await type('Password', 'secret');
    await submit();
    await settle(() => screenInput('Code from the app'));
    await type('Code from the app', '111111');
    await submitFor('Code from the app');
    await settle(() => expect(alerts()).toEqual(['Too many attempts, try again in 30 seconds.']));
    await click('Back to user name and password');
    expect(root.querySelector('h1')?.textContent).toBe('Sign in to Outpost');
    expect(screenInput('User name').value).toBe('alice');
    expect(screenInput('Password').value).toBe('');
    await settle(() => expect(document.activeElement).toBe(screenInput('Password')));
  });

  it('reads in Russian', async () => {
    setLocale('ru');
    loginApi(({ code }) => (code ? apiError(401, 'wrong-code', 'wrong code') : apiError(401, 'second-factor-required', 'x')));
    await open('/login');
    await type('Имя пользователя', 'alice');
    await type('Пароль', 'secret');
    await submit();
    await settle(() => screenInput('Код из приложения'));
    await type('Код из приложения', '000000');
    await submitFor('Код из приложения');
    await settle(() => expect(alerts()).toEqual(['Неверный код. Попробуйте ещё раз.']));
    await click('Использовать резервный код');
    screenInput('Резервный код');
  });
});

describe('two-step sign-in in the profile', () => {
  it('sets it up: password, QR code and key, first code, recovery codes', async () => {
    let confirmAnswer = () => json(200, { recovery_codes: codes });
    fakeApi({
      'GET /api/v1/me': () => json(200, { ...alice, two_factor: false }),
      'GET /api/v1/sessions': () => json(200, []),
      'POST /api/v1/me/two-factor': (init) =>
        JSON.parse(init.body as string).password === 'secret'
          ? json(200, enrolment)
          : apiError(403, 'wrong-password', 'wrong password'),
      'POST /api/v1/me/two-factor/confirm': () => confirmAnswer(),
    });
    await open('/profile');
    await settle(() => button('Set up two-step sign-in'));
    expect(root.querySelector('.tf-status')?.textContent).toBe('Status: Off');
    await click('Set up two-step sign-in');
    await settle(() => expect(document.activeElement).toBe(screenInput('Password')));
    await type('Password', 'nope');
    await submitFor('Password');
    await settle(() => expect(alerts()).toEqual(['Wrong password.']));

    await type('Password', 'secret');
    await submitFor('Password');
    await settle(() => screenInput('Code from the app'));
    const img = root.querySelector<HTMLImageElement>('img.tf-qr')!;
    expect(img.getAttribute('src')).toBe(
      `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`,
    );
    expect(img.getAttribute('alt')).toBe('QR code for your authenticator app');
    expect(screenInput('Key').value).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect(root.querySelector(`a[href="${enrolment.uri}"]`)).not.toBeNull();
    await settle(() => expect(document.activeElement).toBe(screenInput('Code from the app')));

    confirmAnswer = () => apiError(400, 'wrong-code', 'that code is not right');
    await type('Code from the app', '000000');
    await submitFor('Code from the app');
    await settle(() =>
      expect(alerts()).toEqual(['Wrong code. Check that the time on your phone is right and try again.']),
    );

    confirmAnswer = () => json(200, { recovery_codes: codes });
    await type('Code from the app', '123456');
    await submitFor('Code from the app');
    await settle(() => expect(root.querySelectorAll('.recovery-codes li')).toHaveLength(10));
    expect(calls.find((c) => c.key === 'POST /api/v1/me/two-factor/confirm')?.body).toEqual({ code: '000000' });
    expect(root.querySelector('.recovery-codes')?.textContent).toBe(codes.join(''));
    await settle(() => expect(document.activeElement?.textContent).toBe('Save your recovery codes'));
    // The account is enrolled already; the panel stays until the codes are saved.
    expect(root.querySelector('.tf-status')?.textContent).toBe('Status: On');

    await click('I have saved them');
    expect(root.querySelector('.recovery-codes')).toBeNull();
    expect(root.textContent).toContain('Two-step sign-in is on.');
    button('Turn off');
    button('New recovery codes');
  });

  it('downloads the recovery codes as a text file', async () => {
    fakeApi({
      'GET /api/v1/me': () => json(200, { ...alice, two_factor: true }),
      'GET /api/v1/sessions': () => json(200, []),
      'POST /api/v1/me/two-factor/recovery-codes': () => json(200, { recovery_codes: codes }),
    });
    let blob: Blob | null = null;
    const create = vi.fn((b: Blob) => {
      blob = b;
      return 'blob:codes';
    });
    Object.assign(URL, { createObjectURL: create, revokeObjectURL: () => {} });
    const clicked: { href: string; download: string }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download });
    });
    await open('/profile');
    await settle(() => button('New recovery codes'));
    await click('New recovery codes');
    await type('Password', 'secret');
    await submitFor('Password');
    await settle(() => expect(root.querySelectorAll('.recovery-codes li')).toHaveLength(10));
    expect(calls.find((c) => c.key === 'POST /api/v1/me/two-factor/recovery-codes')?.body).toEqual({
      password: 'secret',
    });
    await click('Download as .txt');
    expect(clicked).toEqual([{ href: 'blob:codes', download: 'outpost-recovery-codes.txt' }]);
    const text = await blob!.text();
    expect(text.startsWith(`Outpost recovery codes for alice on ${location.host}\n`)).toBe(true);
    expect(text.trim().split('\n').slice(-10)).toEqual(codes);
  });

  it('offers to start again when the setup expired', async () => {
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/sessions': () => json(200, []),
      'POST /api/v1/me/two-factor': () => json(200, enrolment),
      'POST /api/v1/me/two-factor/confirm': () => apiError(404, 'not-found', 'no such resource'),
    });
    await open('/profile');
    await settle(() => button('Set up two-step sign-in'));
    await click('Set up two-step sign-in');
    await type('Password', 'secret');
    await submitFor('Password');
    await settle(() => screenInput('Code from the app'));
    await type('Code from the app', '123456');
    await submitFor('Code from the app');
    await settle(() => expect(alerts()).toEqual(['The setup took too long and has expired. Start again.']));
    await click('Start again');
    await settle(() => expect(document.activeElement).toBe(screenInput('Password')));
  });

  it('turns it off with the password, unless the administrator requires it', async () => {
    let answer = () => apiError(403, 'two-factor-required', 'the administrator requires two-step sign-in');
    fakeApi({
      'GET /api/v1/me': () => json(200, { ...alice, two_factor: true }),
      'GET /api/v1/sessions': () => json(200, []),
      'DELETE /api/v1/me/two-factor': () => answer(),
    });
    await open('/profile');
    await settle(() => button('Turn off'));
    expect(root.querySelector('.tf-status')?.textContent).toBe('Status: On');
    await click('Turn off');
    await type('Password', 'secret');
    await submitFor('Password');
    await settle(() =>
      expect(alerts()).toEqual(['Your administrator requires two-step sign-in, so you cannot turn it off.']),
    );
    answer = () => new Response(null, { status: 204 });
    await type('Password', 'secret');
    await submitFor('Password');
    await settle(() => expect(root.textContent).toContain('Two-step sign-in is off.'));
    expect(root.querySelector('.tf-status')?.textContent).toBe('Status: Off');
    expect(calls.filter((c) => c.key === 'DELETE /api/v1/me/two-factor').map((c) => c.body)).toEqual([
      { password: 'secret' },
      { password: 'secret' },
    ]);
  });
});

describe('two-step sign-in required by the administrator', () => {
  it('shows only the setup until it is done, then the app', async () => {
    let required = true;
    fakeApi({
      'GET /api/v1/me': () => json(200, { ...alice, two_factor: !required, two_factor_required: required }),
      'GET /api/v1/sessions': () => json(200, []),
      'POST /api/v1/me/two-factor': () => json(200, enrolment),
      'POST /api/v1/me/two-factor/confirm': () => {
        required = false;
        return json(200, { recovery_codes: codes });
      },
    });
    await open('/profile');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Set up two-step sign-in'));
    expect(root.querySelector('.topbar')).toBeNull();
    expect(root.textContent).toContain('Your administrator requires two-step sign-in');
    button('Sign out');
    await type('Password', 'secret');
    await submitFor('Password');
    await settle(() => screenInput('Code from the app'));
    await type('Code from the app', '123456');
    await submitFor('Code from the app');
    await settle(() => button('I have saved them'));
    await click('I have saved them');
    await settle(() => expect(root.querySelector('.topbar-name')?.textContent).toBe('Alice Liddell'));
    expect(root.querySelector('h1')?.textContent).toBe('Profile');
  });

  it('replaces the app when a call is refused for it', async () => {
    let required = false;
    fakeApi({
      'GET /api/v1/me': () => json(200, { ...alice, two_factor_required: required }),
      'GET /api/v1/sessions': () => {
        required = true;
        return apiError(403, 'two-factor-enrolment-required', 'set up two-step sign-in first');
      },
    });
    await open('/profile');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Set up two-step sign-in'));
  });

  it('signs out from the setup', async () => {
    fakeApi({
      'GET /api/v1/me': () => json(200, { ...alice, two_factor_required: true }),
      'POST /api/v1/auth/logout': () => new Response(null, { status: 204 }),
    });
    await open('/');
    await settle(() => button('Sign out'));
    await click('Sign out');
    await settle(() => expect(location.pathname).toBe('/login'));
  });
});

describe('two-step sign-in in the admin page', () => {
  const bob = { ...alice, id: 2, username: 'bob', display_name: 'Bob', is_admin: false, two_factor: true };

  it('shows who has it, resets it, and sets the policy', async () => {
    let policy = 'off';
    fakeApi({
      'GET /api/v1/me': () => json(200, { ...alice, two_factor: false }),
      'GET /api/v1/users': () => json(200, [{ ...alice, two_factor: false }, bob]),
      'DELETE /api/v1/users/2/two-factor': () => new Response(null, { status: 204 }),
      'GET /api/v1/admin/settings': () => json(200, { two_factor_policy: policy }),
      'PUT /api/v1/admin/settings': (init) => {
        policy = JSON.parse(init.body as string).two_factor_policy;
        return json(200, { two_factor_policy: policy });
      },
    });
    const confirm = vi.fn(() => true);
    window.confirm = confirm;
    await open('/admin');
    await settle(() => expect(root.querySelectorAll('tbody tr').length).toBeGreaterThanOrEqual(2));
    const bobRow = [...root.querySelectorAll('tbody tr')].find((r) => r.textContent?.includes('bob'))!;
    expect(bobRow.querySelector('.badge-accent')?.textContent).toBe('2-step');
    const aliceRow = [...root.querySelectorAll('tbody tr')].find((r) => r.textContent?.includes('alice'))!;
    expect(aliceRow.querySelector('.badge-accent')).toBeNull();
    const reset = bobRow.querySelector<HTMLButtonElement>('button[aria-label="Reset two-step sign-in of bob"]')!;
    await act(() => reset.click());
    await settle(() => expect(root.textContent).toContain('Two-step sign-in of bob was reset.'));
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(bobRow.querySelector('.badge-accent')).toBeNull();
    expect(calls.map((c) => c.key)).toContain('DELETE /api/v1/users/2/two-factor');

    // The policy (in Settings): three choices; requiring it of administrators asks first (alice has none).
    await act(() => root.querySelector<HTMLAnchorElement>('.admin-tabs a[href="/admin/settings"]')!.click());
    await settle(() => expect(root.querySelectorAll('input[name="two_factor_policy"]')).toHaveLength(3));
    const radios = [...root.querySelectorAll<HTMLInputElement>('input[name="two_factor_policy"]')];
    expect(radios.map((r) => r.value)).toEqual(['off', 'admins', 'everyone']);
    expect(radios[0]!.checked).toBe(true);
    expect(button('Save').disabled).toBe(true);
    await act(() => radios[1]!.click());
    expect(button('Save').disabled).toBe(false);
    const form = radios[1]!.form!;
    await act(() => {
      form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await settle(() => expect(calls.map((c) => c.key)).toContain('PUT /api/v1/admin/settings'));
    expect(confirm).toHaveBeenCalledTimes(2);
    expect(calls.find((c) => c.key === 'PUT /api/v1/admin/settings')?.body).toEqual({ two_factor_policy: 'admins' });
  });
});

describe('users in the admin page', () => {
  it('shows photos, initials without one, and a tag on directory accounts', async () => {
    const dana = {
      ...alice,
      id: 4,
      username: 'dana',
      display_name: 'Dana Scully',
      is_admin: false,
      from_directory: true,
      photo_url: '/api/v1/users/4/photo?v=9',
    };
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/users': () => json(200, [alice, dana]),
    });
    await open('/admin');
    await settle(() => expect(root.querySelectorAll('tbody tr')).toHaveLength(2));
    const [aliceRow, danaRow] = [...root.querySelectorAll('tbody tr')];
    expect(danaRow!.querySelector('th .av img')?.getAttribute('src')).toBe('/api/v1/users/4/photo?v=9');
    const tag = danaRow!.querySelector('.badge-directory')!;
    expect(tag.textContent).toBe('directory');
    expect(tag.getAttribute('title')).toBe('An account from the organisation’s directory: signs in with the directory password');
    expect(aliceRow!.querySelector('th .av')?.textContent).toBe('AL');
    expect(aliceRow!.querySelector('.badge-directory')).toBeNull();
  });
});

describe('bots in the admin page', () => {
  const backupBot = {
    ...alice,
    id: 12,
    username: 'backup-bot',
    display_name: 'Backups',
    is_admin: false,
    is_bot: true,
  };
  const token = { id: 30, name: 'nas1', scopes: ['read', 'write'], created_at: '2026-01-02T10:00:00Z', last_used_at: null };

  const labelled = (label: string) => root.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`);

  it('creates a bot, gives it a token shown once with its scopes, and revokes it', async () => {
    let bots: unknown[] = [];
    let created = 0;
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/users': () => json(200, created ? [alice, backupBot] : [alice]),
      'GET /api/v1/bots': () => json(200, bots),
      'POST /api/v1/bots': (init) => {
        const body = JSON.parse(init.body as string);
        if (body.username === 'bob') return apiError(409, 'conflict', 'user name taken');
        created++;
        bots = [{ user: backupBot, tokens: [] }];
        return json(201, backupBot);
      },
      'POST /api/v1/bots/12/tokens': () => {
        bots = [{ user: backupBot, tokens: [token] }];
        return json(201, { ...token, token: 'otb_SECRET' });
      },
      'DELETE /api/v1/tokens/30': () => new Response(null, { status: 204 }),
    });
    const confirm = vi.fn(() => true);
    window.confirm = confirm;
    await open('/admin');
    await settle(() => expect(root.querySelector('#admin-bots')?.textContent).toBe('Bots'));
    await settle(() => expect(root.textContent).toContain('No bots yet.'));

    // A user name the server would refuse is not sent; a taken one is explained.
    await type('Bot user name', 'my bot');
    await submitFor('Bot user name');
    expect(root.textContent).toContain('A user name is 1 to 32 characters');
    expect(calls.filter((c) => c.key === 'POST /api/v1/bots')).toHaveLength(0);
    await type('Bot user name', 'bob');
    await submitFor('Bot user name');
    await settle(() => expect(alerts()).toContain('This user name is taken.'));

    await type('Bot user name', ' Backup-Bot ');
    await type('Display name (optional)', 'Backups');
    await submitFor('Bot user name');
    await settle(() => expect(root.textContent).toContain('Bot backup-bot was created.'));
    expect(calls.filter((c) => c.key === 'POST /api/v1/bots').map((c) => c.body)).toEqual([
      { username: 'bob' },
      { username: 'backup-bot', display_name: 'Backups' },
    ]);
    // The users list shows it too, tagged.
    await settle(() => {
      const row = [...root.querySelectorAll('tbody tr')].find((r) => r.textContent?.includes('backup-bot'));
      expect(row?.querySelector('.bot-tag')?.textContent).toBe('bot');
    });

    // Its token form is open: read is ticked; write ticks read, unticking read unticks all.
    await settle(() => expect(document.activeElement).toBe(screenInput('Token name')));
    const box = (scope: string) => root.querySelector<HTMLInputElement>(`input[name="scopes"][value="${scope}"]`)!;
    expect([box('read').checked, box('write').checked, box('admin').checked]).toEqual([true, false, false]);
    await act(() => box('write').click());
    expect([box('read').checked, box('write').checked]).toEqual([true, true]);
    await act(() => box('read').click());
    expect([box('read').checked, box('write').checked, box('admin').checked]).toEqual([false, false, false]);
    await type('Token name', 'nas1');
    await submitFor('Token name');
    expect(root.textContent).toContain('Choose at least one.');
    expect(calls.filter((c) => c.key === 'POST /api/v1/bots/12/tokens')).toHaveLength(0);
    await act(() => box('write').click());
    expect(root.textContent).not.toContain('This bot is not an administrator yet');
    await act(() => box('admin').click());
    expect(root.textContent).toContain('This bot is not an administrator yet');
    await act(() => box('admin').click());
    await submitFor('Token name');
    await settle(() => expect(root.querySelector('.secret-once')).not.toBeNull());
    expect(calls.find((c) => c.key === 'POST /api/v1/bots/12/tokens')?.body).toEqual({
      name: 'nas1',
      scopes: ['read', 'write'],
    });
    expect(screenInput('API token').value).toBe('otb_SECRET');
    expect(screenInput('Example with curl').value).toBe(
      `curl --cacert outpost-ca.pem -H 'Authorization: Bearer otb_SECRET' ${location.origin}/api/v1/channels`,
    );
    const row = root.querySelector('[data-token-id="30"]')!;
    expect([...row.querySelectorAll('.badge')].map((b) => b.textContent)).toEqual(['Read', 'Write']);
    expect(row.textContent).toContain('Never used');
    await click('Done, hide it');
    expect(root.textContent).not.toContain('otb_SECRET');
    await settle(() => expect(document.activeElement).toBe(labelled('New token for backup-bot')));

    await act(() => labelled('Revoke token nas1 of backup-bot')!.click());
    await settle(() => expect(root.textContent).toContain('Token nas1 was revoked.'));
    expect(confirm).toHaveBeenLastCalledWith('Revoke token nas1 of backup-bot? Programs using it are refused at once.');
    expect(root.querySelector('[data-token-id="30"]')).toBeNull();
    expect(calls.map((c) => c.key)).toContain('DELETE /api/v1/tokens/30');
  });

  it('disables a bot with the user action, and says so in Russian', async () => {
    setLocale('ru');
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/users': () => json(200, [alice, backupBot]),
      'GET /api/v1/bots': () => json(200, [{ user: backupBot, tokens: [token] }]),
      'POST /api/v1/users/12/disable': () => new Response(null, { status: 204 }),
    });
    const confirm = vi.fn(() => true);
    window.confirm = confirm;
    await open('/admin');
    await settle(() => expect(root.querySelector('[data-bot-id="12"]')).not.toBeNull());
    const item = root.querySelector('[data-bot-id="12"]')!;
    expect(item.querySelector('.bot-tag')?.textContent).toBe('бот');
    expect(item.querySelector('.badge')).not.toBeNull();
    await act(() => item.querySelector<HTMLButtonElement>('button[aria-label="Отключить backup-bot"]')!.click());
    await settle(() => expect(root.textContent).toContain('Бот backup-bot отключён: его токены не принимаются.'));
    expect(confirm).toHaveBeenCalledWith('Отключить бота backup-bot? Его токены перестанут работать, пока вы снова его не включите.');
    expect(calls.map((c) => c.key)).toContain('POST /api/v1/users/12/disable');
  });

  it('is hidden when the server has no bots', async () => {
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/users': () => json(200, [alice]),
    });
    await open('/admin');
    await settle(() => expect(root.querySelectorAll('tbody tr')).toHaveLength(1));
    await settle(() => expect(calls.map((c) => c.key)).toContain('GET /api/v1/bots'));
    await settle(() => expect(root.querySelector('#admin-bots')).toBeNull());
    expect(root.querySelector('#admin-users')).not.toBeNull();
  });
});

describe('people and preferences in the app', () => {
  afterEach(() => {
    localStorage.removeItem('outpost.language');
    setLocale('en');
  });

  it('applies the language stored in the preferences to the whole app', async () => {
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/sessions': () => json(200, []),
      'GET /api/v1/me/preferences': () =>
        json(200, { time_zone: '', dnd_until: null, dnd_start: null, dnd_end: null, keywords: [], read_receipts: true, language: 'ru' }),
    });
    await open('/profile');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('Профиль'));
    expect(root.querySelector('a[href="/people"]')?.textContent).toBe('Люди');
    expect(document.documentElement.lang).toBe('ru');
    expect(localStorage.getItem('outpost.language')).toBe('ru');
  });

  it('has a people directory and a status button', async () => {
    fakeApi({ 'GET /api/v1/me': () => json(200, alice) });
    await open('/people');
    await settle(() => expect(root.querySelector('h1')?.textContent).toBe('People'));
    expect(root.querySelector('.status-btn')?.getAttribute('aria-label')).toBe('Set a status');
  });
});
