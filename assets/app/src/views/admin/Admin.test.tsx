// @vitest-environment happy-dom
//
// Administration without a terminal, through the whole app against a fake API: the users list
// (search, reset link, administrator role, signing out everywhere, profile), the channels list
// (members, owners, retention, archive), the site's retention, the audit log as sentences, and
// the public password reset page.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch } from '../../api';
import { App } from '../../app';
import { mountRoot, unmountRoot } from '../../fixtures.test-util';
import { setLocale } from '../../i18n';

type Handler = (init: RequestInit) => Response | Promise<Response>;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const apiError = (status: number, code: string, message: string) => json(status, { error: { code, message } });
const noContent = () => new Response(null, { status: 204 });

const alice = {
  id: 1,
  username: 'alice',
  display_name: 'Alice Liddell',
  is_admin: true,
  disabled: false,
  created_at: '2025-01-01T00:00:00Z',
  last_sign_in_at: new Date(Date.now() - 5 * 60_000).toISOString(),
};
const boris = {
  ...alice,
  id: 2,
  username: 'boris',
  display_name: 'Борис Иванов',
  is_admin: false,
  title: 'Радист',
  department: 'Связь',
  last_sign_in_at: null,
};
const carol = { ...alice, id: 3, username: 'carol', display_name: 'Carol', is_admin: false, title: 'Medic' };

let root: HTMLElement;
let calls: { key: string; body: unknown }[];

function fakeApi(handlers: Record<string, Handler>) {
  calls = [];
  setFetch(async (url, init) => {
    const key = `${init.method} ${url}`;
    let body: unknown;
    try {
      body = init.body ? JSON.parse(init.body as string) : undefined;
    } catch {
      body = init.body;
    }
    calls.push({ key, body });
    const handler = handlers[key];
    if (!handler) return apiError(404, 'not-found', `no fake for ${key}`);
    return handler(init);
  });
}

async function open(path: string) {
  history.replaceState(null, '', path);
  await act(() => render(<App />, root));
}

const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });
const labelled = (label: string) => root.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`);
const alerts = () => [...root.querySelectorAll('[role="alert"], .alert')].map((a) => a.textContent);
const rows = () => [...root.querySelectorAll('tbody tr')];

function button(text: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === text);
  if (!found) throw new Error(`no button ${text}`);
  return found;
}

function input(label: string): HTMLInputElement {
  const labelEl = [...root.querySelectorAll('label')].find((l) => l.textContent === label);
  if (!labelEl) throw new Error(`no label ${label}`);
  return root.querySelector(`#${CSS.escape(labelEl.htmlFor)}`) as HTMLInputElement;
}

async function type(label: string, value: string) {
  const el = input(label);
  await act(() => {
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

async function submitFor(label: string) {
  const form = input(label).form!;
  await act(() => {
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
}

beforeEach(() => {
  setLocale('en');
  root = mountRoot();
  window.confirm = vi.fn(() => true);
});

afterEach(async () => {
  await unmountRoot(root);
  setLocale('en');
});

describe('users in the admin page', () => {
  it('searches, makes a reset link shown once, changes the role, signs out everywhere, edits a profile', async () => {
    let borisNow = { ...boris };
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/users': () => json(200, [alice, borisNow, carol]),
      'POST /api/v1/users/2/password-reset': () =>
        json(200, { path: '/reset/RST', token: 'RST', expires_at: '2030-01-02T10:00:00Z' }),
      'PUT /api/v1/users/2/admin': (init) => {
        borisNow = { ...borisNow, is_admin: JSON.parse(init.body as string).is_admin };
        return json(200, borisNow);
      },
      'DELETE /api/v1/users/2/sessions': noContent,
      'PATCH /api/v1/users/2/profile': (init) => {
        borisNow = { ...borisNow, ...JSON.parse(init.body as string) };
        return json(200, borisNow);
      },
    });
    await open('/admin');
    await settle(() => expect(rows()).toHaveLength(3));
    // Tabs: Users is the current one.
    expect(root.querySelector('.admin-tabs a[aria-current="page"]')?.textContent).toBe('Users');
    const row = () => root.querySelector('tr[data-username="boris"]')!;
    expect(row().textContent).toContain('Радист · Связь');
    expect(row().textContent).toContain('Never');
    expect(root.querySelector('tr[data-username="alice"]')!.textContent).toContain('5 minutes ago');
    expect(root.querySelector('tr[data-username="alice"] .badge-admin')?.textContent).toBe('admin');
    // Nobody resets, demotes or signs out themselves here.
    expect(labelled('Reset the password of alice')).toBeNull();
    expect(labelled('Remove administrator rights from alice')).toBeNull();

    await type('Search users', 'РАДИСТ');
    expect(rows().map((r) => r.getAttribute('data-username'))).toEqual(['boris']);
    await type('Search users', 'medic');
    expect(rows().map((r) => r.getAttribute('data-username'))).toEqual(['carol']);
    await type('Search users', 'nobody-here');
    expect(rows()).toHaveLength(0);
    expect(root.textContent).toContain('Nobody matches “nobody-here”.');
    await type('Search users', 'boris');

    // A reset link: shown once, with a QR code and what to do with it; never a password.
    await act(() => labelled('Reset the password of boris')!.click());
    await settle(() => expect(root.querySelector('dialog')).not.toBeNull());
    const url = `${location.origin}/reset/RST`;
    expect(input('Reset link').value).toBe(url);
    expect(root.querySelector('dialog img.qr-image')?.getAttribute('src')).toBe(`/api/v1/qr?text=${encodeURIComponent(url)}`);
    expect(root.querySelector('dialog')!.textContent).toContain('It works once');
    expect(root.querySelector('dialog')!.textContent).toContain('hand it over in person');
    await act(() => button('Done').click());
    expect(root.querySelector('dialog')).toBeNull();

    await act(() => labelled('Make boris an administrator')!.click());
    await settle(() => expect(root.textContent).toContain('boris is now an administrator.'));
    expect(calls.find((c) => c.key === 'PUT /api/v1/users/2/admin')?.body).toEqual({ is_admin: true });
    expect(row().querySelector('.badge-admin')).not.toBeNull();
    await act(() => labelled('Remove administrator rights from boris')!.click());
    await settle(() => expect(root.textContent).toContain('boris is no longer an administrator.'));

    await act(() => labelled('Sign boris out everywhere')!.click());
    await settle(() => expect(root.textContent).toContain('boris was signed out everywhere.'));
    expect(window.confirm).toHaveBeenLastCalledWith(
      'Sign boris out on every device? They stay able to sign in again with their password.',
    );
    expect(calls.map((c) => c.key)).toContain('DELETE /api/v1/users/2/sessions');

    await act(() => labelled('Edit the profile of boris')!.click());
    await settle(() => expect(root.querySelector('dialog')).not.toBeNull());
    expect(input('Job title').value).toBe('Радист');
    await type('Job title', 'Старший радист');
    await submitFor('Job title');
    await settle(() => expect(root.textContent).toContain('Profile saved.'));
    expect(calls.find((c) => c.key === 'PATCH /api/v1/users/2/profile')?.body).toEqual({ title: 'Старший радист' });
    expect(row().textContent).toContain('Старший радист · Связь');
  });

  it('explains why a directory account keeps its role', async () => {
    const dana = { ...carol, id: 4, username: 'dana', from_directory: true };
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/users': () => json(200, [alice, dana]),
      'PUT /api/v1/users/4/admin': () => apiError(409, 'managed-by-directory', 'the directory decides'),
    });
    await open('/admin');
    await settle(() => expect(rows()).toHaveLength(2));
    // Its password lives in the directory: no reset link.
    expect(labelled('Reset the password of dana')).toBeNull();
    await act(() => labelled('Make dana an administrator')!.click());
    await settle(() => expect(alerts().join(' ')).toContain('directory'));
  });
});

const channels = [
  {
    id: 7,
    kind: 'private',
    name: 'ops',
    topic: 'Operations',
    archived: false,
    last_seq: 4,
    created_at: 0,
    members: 2,
    owner_ids: [1],
    last_activity: Date.now() - 3 * 3600_000,
    retention_days: null,
  },
  {
    id: 8,
    kind: 'public',
    name: 'general',
    topic: '',
    archived: true,
    last_seq: 0,
    created_at: 0,
    members: 3,
    owner_ids: [],
    last_activity: null,
    retention_days: 30,
  },
];

describe('channels in the admin page', () => {
  it('lists every channel, manages members and owners, retention and the archive', async () => {
    let members = [1, 2];
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/users': () => json(200, [alice, boris, carol]),
      'GET /api/v1/admin/channels': () => json(200, channels),
      'GET /api/v1/admin/settings': () => json(200, { two_factor_policy: 'off', retention_days: 90, retention_from_config: true }),
      'GET /api/v1/channels/7/members': () => json(200, members),
      'POST /api/v1/channels/7/members': (init) => {
        members = [...members, JSON.parse(init.body as string).user_id];
        return noContent();
      },
      'DELETE /api/v1/channels/7/members/2': () => {
        members = members.filter((m) => m !== 2);
        return noContent();
      },
      'PUT /api/v1/channels/7/members/3/role': () => json(200, channels[0]),
      'PUT /api/v1/admin/channels/7/retention': noContent,
      'PATCH /api/v1/channels/7': (init) => json(200, { ...channels[0], ...JSON.parse(init.body as string) }),
    });
    await open('/admin/channels');
    await settle(() => expect(rows()).toHaveLength(2));
    expect(root.querySelector('.admin-tabs a[aria-current="page"]')?.textContent).toBe('Channels');
    const ops = () => root.querySelector('tr[data-channel="ops"]')!;
    expect(ops().querySelector('svg.lock-icon')?.getAttribute('aria-label')).toBe('Private channel');
    expect(ops().textContent).toContain('Operations');
    expect(ops().textContent).toContain('Alice Liddell');
    expect(ops().textContent).toContain('3 hours ago');
    await settle(() => expect(ops().textContent).toContain('Site default (90 days)'));
    const general = root.querySelector('tr[data-channel="general"]')!;
    expect(general.textContent).toContain('Archived');
    expect(general.textContent).toContain('30 days');
    expect(general.textContent).toContain('No messages yet');
    // Archived channels come last.
    expect(rows()[1]).toBe(general);

    // Members: add Carol from the people list, make her an owner, remove Boris.
    await act(() => labelled('Members of #ops')!.click());
    await settle(() => expect(root.querySelectorAll('dialog .admin-members li')).toHaveLength(2));
    await type('Add a member', 'medic');
    await act(() => labelled('Add Carol @carol')!.click());
    await settle(() => expect(root.textContent).toContain('Carol was added.'));
    expect(calls.find((c) => c.key === 'POST /api/v1/channels/7/members')?.body).toEqual({ user_id: 3 });
    expect(root.querySelectorAll('dialog .admin-members li')).toHaveLength(3);
    await act(() => labelled('Make Carol an owner')!.click());
    await settle(() => expect(root.textContent).toContain('Carol is now an owner.'));
    expect(calls.find((c) => c.key === 'PUT /api/v1/channels/7/members/3/role')?.body).toEqual({ role: 'owner' });
    expect(labelled('Remove Carol from the owners')).not.toBeNull();
    await act(() => labelled('Remove Борис Иванов from the channel')!.click());
    await settle(() => expect(root.textContent).toContain('Борис Иванов was removed.'));
    await act(() => button('Done').click());
    expect(root.querySelector('dialog')).toBeNull();
    expect(ops().textContent).toContain('Alice Liddell, Carol');

    // Retention: 14 days of its own.
    await act(() => labelled('Message retention in #ops')!.click());
    await settle(() => expect(root.querySelector('dialog')).not.toBeNull());
    await act(() => root.querySelector<HTMLInputElement>('input[name="channel_retention"][value="custom"]')!.click());
    await type('Days (0: keep forever)', '1.5');
    await submitFor('Days (0: keep forever)');
    expect(root.textContent).toContain('Enter a whole number of days from 0 to 36500.');
    await type('Days (0: keep forever)', '14');
    await submitFor('Days (0: keep forever)');
    await settle(() => expect(root.textContent).toContain('Message retention saved.'));
    expect(calls.find((c) => c.key === 'PUT /api/v1/admin/channels/7/retention')?.body).toEqual({ days: 14 });
    expect(ops().textContent).toContain('14 days');

    await act(() => labelled('Archive ops')!.click());
    await settle(() => expect(root.textContent).toContain('#ops is archived.'));
    expect(calls.find((c) => c.key === 'PATCH /api/v1/channels/7')?.body).toEqual({ archived: true });
  });
});

describe('settings in the admin page', () => {
  it('sets the site retention, or follows the configuration file again', async () => {
    let settings = { two_factor_policy: 'off', retention_days: 365, retention_from_config: true };
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/admin/settings': () => json(200, settings),
      'PUT /api/v1/admin/settings': (init) => {
        const body = JSON.parse(init.body as string);
        settings =
          body.retention_days === null
            ? { ...settings, retention_days: 365, retention_from_config: true }
            : { ...settings, retention_days: body.retention_days, retention_from_config: false };
        return json(200, settings);
      },
    });
    await open('/admin/settings');
    await settle(() => expect(root.textContent).toContain('Use the configuration file’s value (365 days)'));
    // The two-step sign-in policy is here too.
    expect(root.querySelectorAll('input[name="two_factor_policy"]')).toHaveLength(3);
    await act(() => root.querySelector<HTMLInputElement>('input[name="site_retention"][value="custom"]')!.click());
    await type('Days (0: keep forever)', '0');
    await submitFor('Days (0: keep forever)');
    await settle(() => expect(root.textContent).toContain('Now: Forever.'));
    expect(calls.find((c) => c.key === 'PUT /api/v1/admin/settings')?.body).toEqual({ retention_days: 0 });
    await act(() => root.querySelector<HTMLInputElement>('input[name="site_retention"][value="config"]')!.click());
    await act(() => {
      root.querySelector<HTMLInputElement>('input[name="site_retention"]')!.form!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await settle(() => expect(root.textContent).toContain('Now: 365 days.'));
    expect(calls.filter((c) => c.key === 'PUT /api/v1/admin/settings').map((c) => c.body)).toEqual([
      { retention_days: 0 },
      { retention_days: null },
    ]);
  });
});

describe('the audit log', () => {
  const entries = [
    { id: 3, at: '2026-03-10T12:00:00Z', actor_id: 1, actor: 'alice', action: 'user-disabled', target: 'boris', address: '10.0.0.2', details: '' },
    { id: 2, at: '2026-03-10T11:00:00Z', actor_id: 1, actor: 'alice', action: 'owner-added', target: '#ops (7)', address: '', details: 'user 3' },
    { id: 1, at: '2026-03-10T10:00:00Z', actor_id: null, actor: 'x', action: 'brand-new-thing', target: '', address: '', details: '' },
  ];

  it('shows sentences in the UI language, with the code in small print; the CSV keeps codes', async () => {
    setLocale('ru');
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/users': () => json(200, [alice, boris, carol]),
      'GET /api/v1/admin/channels': () => json(200, channels),
      'GET /api/v1/admin/audit?limit=50': () => json(200, entries),
    });
    await open('/admin/audit');
    await settle(() => expect(root.querySelectorAll('.audit-sentence')).toHaveLength(3));
    await settle(() =>
      expect([...root.querySelectorAll('.audit-sentence')].map((s) => s.textContent)).toEqual([
        'Alice Liddell: учётная запись Борис Иванов отключена',
        'Alice Liddell: пользователь Carol назначен владельцем #ops',
        'brand-new-thing',
      ]),
    );
    expect([...root.querySelectorAll('.audit-code')].map((s) => s.textContent)).toEqual([
      'user-disabled',
      'owner-added',
      'brand-new-thing',
    ]);
    expect(root.querySelector('.audit-sentence')?.getAttribute('title')).toBe('Код события: user-disabled');
    expect(root.querySelector('a[download]')?.getAttribute('href')).toBe('/api/v1/admin/audit?format=csv&limit=10000');
  });
});

describe('the password reset page', () => {
  it('checks the link, takes the new password twice, then says to sign in', async () => {
    let used = false;
    fakeApi({
      'GET /api/v1/password-resets/TOK': () =>
        used ? apiError(404, 'invalid-token', 'used') : json(200, { username: 'boris', display_name: 'Boris' }),
      'POST /api/v1/password-resets/TOK': () => {
        used = true;
        return noContent();
      },
    });
    await open('/reset/TOK');
    await settle(() => expect(root.textContent).toContain('For Boris (@boris).'));
    expect(root.querySelector('h1')?.textContent).toBe('Choose a new password');
    await type('New password', 'short');
    await type('Repeat password', 'short');
    await submitFor('New password');
    expect(root.textContent).toContain('A password is 8 to 1024 characters long.');
    await type('New password', 'a-long-new-password');
    await type('Repeat password', 'another-password');
    await submitFor('New password');
    expect(root.textContent).toContain('The passwords do not match.');
    expect(calls.filter((c) => c.key.startsWith('POST'))).toHaveLength(0);
    await type('Repeat password', 'a-long-new-password');
    await submitFor('New password');
    await settle(() => expect(root.textContent).toContain('Your password is changed. Sign in with the new password.'));
    expect(calls.find((c) => c.key === 'POST /api/v1/password-resets/TOK')?.body).toEqual({ password: 'a-long-new-password' });
    expect(root.querySelector('a[href="/login"]')?.textContent).toBe('Sign in');
    expect(root.textContent).not.toContain('a-long-new-password');

    // Opening it again: used, no form.
    await act(() => render(null, root));
    await open('/reset/TOK');
    await settle(() => expect(alerts()).toEqual(['This link was already used or has expired.']));
    expect(root.querySelector('form')).toBeNull();
  });

  it('reads in Russian', async () => {
    setLocale('ru');
    fakeApi({ 'GET /api/v1/password-resets/OLD': () => apiError(404, 'invalid-token', 'used') });
    await open('/reset/OLD');
    await settle(() => expect(alerts()).toEqual(['Эта ссылка уже использована или истекла.']));
    expect(root.querySelector('a[href="/login"]')?.textContent).toBe('Перейти ко входу');
  });
});
