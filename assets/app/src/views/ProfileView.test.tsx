// @vitest-environment happy-dom
//
// The own profile: job title, department, phone, about, the photo, and the fields the
// organisation's directory manages.

import { render } from 'preact';
import { useState } from 'preact/hooks';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type User } from '../api';
import { mountRoot, unmountRoot } from '../fixtures.test-util';
import { setLocale } from '../i18n';
import { SessionContext } from '../session';
import { ProfileView } from './ProfileView';

const local: User = {
  id: 1,
  username: 'alice',
  display_name: 'Alice Liddell',
  is_admin: false,
  disabled: false,
  created_at: '2025-01-01T00:00:00Z',
  title: '',
  department: 'Sales',
  phone: '',
  about: '',
  photo_url: null,
  from_directory: false,
  managed_fields: [],
};

const fromDirectory: User = {
  ...local,
  title: 'Engineer',
  from_directory: true,
  photo_url: '/api/v1/users/1/photo?v=5',
  managed_fields: ['display_name', 'title', 'photo'],
};

type Call = { key: string; body: unknown; type?: string };
let root: HTMLElement;
let calls: Call[];
let current: User;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const apiError = (status: number, code: string, message: string) => json(status, { error: { code, message } });

function fakeApi(routes: Record<string, (body: unknown) => Response>) {
  calls = [];
  setFetch(async (url, init) => {
    const key = `${init.method} ${url}`;
    const headers = init.headers as Record<string, string>;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : init.body;
    calls.push({ key, body, type: headers['Content-Type'] });
    const handler = routes[key] ?? (key === 'GET /api/v1/sessions' ? () => json(200, []) : undefined);
    if (!handler) return apiError(404, 'not-found', `no fake for ${key}`);
    return handler(body);
  });
}

function Page({ user }: { user: User }) {
  const [u, setU] = useState(user);
  current = u;
  return (
    <SessionContext.Provider value={{ user: u, setUser: setU }}>
      <ProfileView />
    </SessionContext.Provider>
  );
}

async function show(user: User) {
  await act(() => render(<Page user={user} />, root));
}

function input(label: string): HTMLInputElement {
  const el = [...root.querySelectorAll('label')].find((l) => l.textContent === label);
  if (!el) throw new Error(`no label ${label}`);
  return root.querySelector(`#${CSS.escape(el.htmlFor)}`) as HTMLInputElement;
}

function hintOf(label: string): string | null {
  const ids = input(label).getAttribute('aria-describedby');
  return ids ? ids.split(' ').map((id) => root.querySelector(`#${CSS.escape(id)}`)?.textContent).join(' ') : null;
}

async function type(label: string, value: string) {
  const el = input(label);
  await act(() => {
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

const button = (text: string) => [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === text) ?? null;

async function save() {
  const form = input('Job title').form!;
  await act(() => {
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
}

async function choose(file: File) {
  const el = root.querySelector<HTMLInputElement>('input[type="file"]')!;
  Object.defineProperty(el, 'files', { value: [file], configurable: true });
  await act(() => {
    el.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });

beforeEach(() => {
  setLocale('en');
  root = mountRoot();
});

afterEach(async () => {
  await unmountRoot(root);
  setFetch((input, init) => globalThis.fetch(input, init));
  setLocale('en');
});

describe('profile fields', () => {
  it('saves job title, department, phone and about: only what changed', async () => {
    fakeApi({ 'PATCH /api/v1/me': (body) => json(200, { ...current, ...(body as object) }) });
    await show(local);
    expect(input('Display name').readOnly).toBe(false);
    expect(input('Job title').readOnly).toBe(false);
    expect(input('Phone').type).toBe('tel');
    expect(input('About').tagName).toBe('TEXTAREA');
    expect(input('Job title').maxLength).toBe(100);
    expect(input('About').maxLength).toBe(500);
    expect(button('Save')!.disabled).toBe(true);

    await type('Job title', ' Account manager ');
    await type('Phone', '+7 495 000-00-00');
    await type('About', 'North-west region.\nCall before noon.');
    expect(button('Save')!.disabled).toBe(false);
    await save();
    await settle(() => expect(root.textContent).toContain('Profile saved.'));
    expect(calls.filter((c) => c.key === 'PATCH /api/v1/me').map((c) => c.body)).toEqual([
      { title: 'Account manager', phone: '+7 495 000-00-00', about: 'North-west region.\nCall before noon.' },
    ]);
    expect(input('Job title').value).toBe('Account manager');
    expect(button('Save')!.disabled).toBe(true);
  });

  it('checks the phone number before sending', async () => {
    fakeApi({});
    await show(local);
    await type('Phone', 'call me <maybe>');
    await save();
    expect(hintOf('Phone')).toContain('A phone number is at most 40 characters');
    expect(input('Phone').getAttribute('aria-invalid')).toBe('true');
    expect(calls.filter((c) => c.key === 'PATCH /api/v1/me')).toHaveLength(0);
  });

  it('shows the directory’s fields read-only, and never sends them', async () => {
    fakeApi({ 'PATCH /api/v1/me': (body) => json(200, { ...current, ...(body as object) }) });
    await show(fromDirectory);
    const hint = 'Comes from your organisation’s directory';
    expect(input('Display name').readOnly).toBe(true);
    expect(hintOf('Display name')).toBe(hint);
    expect(input('Job title').readOnly).toBe(true);
    expect(input('Job title').value).toBe('Engineer');
    expect(hintOf('Job title')).toBe(hint);
    expect(input('Department').readOnly).toBe(false);
    expect(hintOf('Department')).toBeNull();
    expect(input('Phone').readOnly).toBe(false);
    expect(input('About').readOnly).toBe(false);
    // The photo too: shown, but no upload or remove.
    expect(root.querySelector('#profile-photo')!.closest('section')!.textContent).toContain(hint);
    expect(root.querySelector('.photo-row .av-xl img')!.getAttribute('src')).toBe('/api/v1/users/1/photo?v=5&size=large');
    expect(button('Upload photo')).toBeNull();
    expect(button('Remove photo')).toBeNull();
    expect(root.querySelector('input[type="file"]')).toBeNull();

    await type('Department', 'Field service');
    await save();
    await settle(() => expect(root.textContent).toContain('Profile saved.'));
    expect(calls.find((c) => c.key === 'PATCH /api/v1/me')?.body).toEqual({ department: 'Field service' });
  });

  it('explains a refusal for a directory field, in Russian too', async () => {
    setLocale('ru');
    fakeApi({ 'PATCH /api/v1/me': () => apiError(409, 'managed-by-directory', 'the job title comes from the directory') });
    await show(fromDirectory);
    expect(hintOf('Должность')).toBe('Из каталога организации');
    await type('Отдел', 'Другой');
    await act(() => {
      input('Отдел').form!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await settle(() =>
      expect(root.querySelector('[role="alert"]')?.textContent).toBe(
        'Это берётся из каталога организации, и здесь это изменить нельзя.',
      ),
    );
  });
});

describe('profile photo', () => {
  it('uploads the file as it is, shows it, and removes it', async () => {
    const withPhoto = { ...local, photo_url: '/api/v1/users/1/photo?v=42' };
    fakeApi({
      'PUT /api/v1/me/photo': () => json(200, withPhoto),
      'DELETE /api/v1/me/photo': () => json(200, local),
    });
    window.confirm = vi.fn(() => true);
    await show(local);
    expect(root.querySelector('.photo-row .av')!.textContent).toBe('AL');
    expect(root.textContent).toContain('No photo yet: people see your initials.');
    expect(button('Remove photo')).toBeNull();
    const picker = root.querySelector<HTMLInputElement>('input[type="file"]')!;
    expect(picker.getAttribute('accept')).toBe('image/*');

    const file = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'me.png', { type: 'image/png' });
    await choose(file);
    await settle(() => expect(root.textContent).toContain('Photo updated.'));
    const put = calls.find((c) => c.key === 'PUT /api/v1/me/photo')!;
    expect(put.body).toBe(file);
    expect(put.type).toBe('image/png');
    expect(root.querySelector('.photo-row .av-xl img')!.getAttribute('src')).toBe('/api/v1/users/1/photo?v=42&size=large');

    await act(() => button('Remove photo')!.click());
    await settle(() => expect(root.textContent).toContain('Photo removed.'));
    expect(window.confirm).toHaveBeenCalledWith('Remove your photo? People will see your initials instead.');
    expect(calls.map((c) => c.key)).toContain('DELETE /api/v1/me/photo');
    expect(root.querySelector('.photo-row img')).toBeNull();
  });

  it('explains a file that is not a picture, or too large', async () => {
    fakeApi({ 'PUT /api/v1/me/photo': () => apiError(422, 'bad-photo', 'not an image') });
    await show(local);
    await choose(new File(['GIF89a?'], 'broken.gif', { type: 'image/gif' }));
    await settle(() =>
      expect(root.querySelector('[role="alert"]')?.textContent).toBe(
        'Outpost cannot read this file as a picture. Use a JPEG, PNG, WebP or GIF image.',
      ),
    );

    // Too large: said before sending anything.
    const big = new File(['x'], 'huge.jpg', { type: 'image/jpeg' });
    Object.defineProperty(big, 'size', { value: 11 * 1024 * 1024 });
    await choose(big);
    expect(root.querySelector('[role="alert"]')?.textContent).toBe('This picture is larger than 10 MB. Choose a smaller one.');
    expect(calls.filter((c) => c.key === 'PUT /api/v1/me/photo')).toHaveLength(1);

    await choose(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    expect(root.querySelector('[role="alert"]')?.textContent).toBe('Choose a picture file (JPEG, PNG, WebP or GIF).');
  });

  it('says when the server finds the photo too large', async () => {
    fakeApi({ 'PUT /api/v1/me/photo': () => apiError(413, 'payload-too-large', 'a photo is at most 10 MiB') });
    await show(local);
    await choose(new File(['x'], 'me.jpg', { type: 'image/jpeg' }));
    await settle(() =>
      expect(root.querySelector('[role="alert"]')?.textContent).toBe('This picture is larger than 10 MB. Choose a smaller one.'),
    );
  });
});
