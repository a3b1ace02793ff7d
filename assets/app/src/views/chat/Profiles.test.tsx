// @vitest-environment happy-dom
//
// Photos in avatars and the profile card opened from a message's author.

import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type Person, type PersonView } from '../../api';
import type { ChatClient } from '../../chat/client';
import { channel, chatClient, message, mountRoot, renderInChat, unmountRoot, user } from '../../fixtures.test-util';
import { setLocale } from '../../i18n';
import { Avatar } from './Avatar';
import { Dialogs } from './Dialogs';
import { MessageItem } from './MessageItem';
import { localTime, ProfileCardHost } from './ProfileCard';
import { openDialog, openProfile, ui } from './ui';

const me = user();

const bobPhoto = '/api/v1/users/2/photo?v=1733380000000';
const people: Person[] = [
  { id: 1, username: 'alice', display_name: 'Alice', presence: 'online', photo_url: null },
  {
    id: 2,
    username: 'bob',
    display_name: 'Bob Stone',
    presence: 'away',
    title: 'Engineer',
    department: 'Networks',
    photo_url: bobPhoto,
  },
  { id: 3, username: 'carol', display_name: 'Carol', presence: 'offline' },
];

// `GET /users/{id}` answers with the person as everyone sees them.
const bob: PersonView = {
  id: 2,
  username: 'bob',
  display_name: 'Bob Stone',
  presence: 'away',
  is_bot: false,
  deactivated: false,
  title: 'Engineer',
  department: 'Networks',
  phone: '+7 (495) 123-45-67',
  about: 'Routers.\nAlso switches.',
  photo_url: bobPhoto,
  status: null,
};

let root: HTMLElement;
let client: ChatClient;
let calls: { key: string; body: unknown }[];

function fakeApi(routes: Record<string, () => Response>) {
  calls = [];
  setFetch(async (url, init) => {
    const key = `${init.method} ${url}`;
    calls.push({ key, body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined });
    const handler = routes[key];
    if (!handler) return json(404, { error: { code: 'not-found', message: `no fake for ${key}` } });
    return handler();
  });
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const show = (node: preact.ComponentChildren) => renderInChat(root, node, { user: me, client });

const itemProps = {
  first: true,
  meId: 1,
  isAdmin: false,
  canModerate: false,
  mentions: { me: 'alice', known: () => false },
  highlight: false,
  editing: false,
  onEdit: () => {},
};

const $ = <E extends Element = HTMLElement>(sel: string) => root.querySelector<E>(sel);
const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });

beforeEach(() => {
  setLocale('en');
  localStorage.clear();
  client = chatClient(me);
  client.setPeople(people);
  root = mountRoot();
});

afterEach(async () => {
  openProfile(null);
  openDialog(null);
  await unmountRoot(root);
  setFetch((input, init) => globalThis.fetch(input, init));
  setLocale('en');
});

describe('avatars', () => {
  it('shows the small photo, lazily and without its own text', async () => {
    await show(<Avatar id={2} name="Bob Stone" photo={bobPhoto} />);
    const img = $<HTMLImageElement>('.av img')!;
    expect(img.getAttribute('src')).toBe(bobPhoto);
    expect(img.getAttribute('alt')).toBe('');
    expect(img.getAttribute('loading')).toBe('lazy');
    expect($('.av')!.getAttribute('aria-hidden')).toBe('true');
    expect($('.av')!.className).toBe('av av-m av-photo');
    expect($('.av')!.textContent).toBe('');
  });

  it('falls back to initials without a photo, or when it does not load', async () => {
    await show(<Avatar id={3} name="Carol King" photo={null} />);
    expect($('.av img')).toBeNull();
    expect($('.av')!.textContent).toBe('CK');
    expect($('.av')!.className).toMatch(/^av av-m av-c\d$/);

    await show(<Avatar id={2} name="Bob Stone" size="s" photo={bobPhoto} />);
    await act(() => {
      $('.av img')!.dispatchEvent(new Event('error'));
    });
    expect($('.av img')).toBeNull();
    expect($('.av')!.textContent).toBe('BS');
  });

  it('shows the large photo in the largest size', async () => {
    await show(<Avatar id={2} name="Bob Stone" size="xl" photo={bobPhoto} />);
    expect($('.av-xl img')!.getAttribute('src')).toBe(`${bobPhoto}&size=large`);
  });

  it('shows a message author’s photo from the people list', async () => {
    await show(<MessageItem message={message()} {...itemProps} people={client.state.people} />);
    expect($('.msg-gutter .av img')!.getAttribute('src')).toBe(bobPhoto);
    await show(<MessageItem message={message({ id: 8, author_id: 3 })} {...itemProps} people={client.state.people} />);
    expect($('.msg-gutter .av img')).toBeNull();
    expect($('.msg-gutter .av')!.textContent).toBe('C');
  });
});

describe('profile card', () => {
  it('tells the person’s local time in their own zone, and nothing for an unknown one', () => {
    const noonUtc = new Date(Date.UTC(2026, 11, 5, 12, 0));
    expect(localTime('Europe/Moscow', noonUtc, 'en')).toBe('03:00 PM');
    expect(localTime('Asia/Vladivostok', noonUtc, 'ru')).toBe('22:00');
    expect(localTime('', noonUtc)).toBeNull();
    expect(localTime('Mars/Olympus', noonUtc)).toBeNull();
  });

  it('opens from the author’s name with the profile, and closes with Escape', async () => {
    fakeApi({ 'GET /api/v1/users/2': () => json(200, bob) });
    await show(
      <>
        <MessageItem message={message()} {...itemProps} people={client.state.people} />
        <ProfileCardHost />
      </>,
    );
    const name = $<HTMLButtonElement>('button.msg-author')!;
    expect(name.textContent).toBe('Bob Stone');
    await act(() => name.click());
    expect(ui.get().profile?.userId).toBe(2);
    expect(ui.get().profile?.anchor).toBe(name);
    await settle(() => expect($('.pc-phone')).not.toBeNull());
    const card = $<HTMLDialogElement>('dialog.profile-card')!;
    expect(card.getAttribute('aria-labelledby')).toBe('profile-card-name');
    expect($('#profile-card-name')!.textContent).toBe('Bob Stone');
    expect($('.pc-username')!.textContent).toBe('@bob');
    expect($('.pc-presence')!.textContent).toBe('Away');
    expect($('.pc-title')!.textContent).toBe('Engineer');
    expect($('.pc-department')!.textContent).toBe('Networks');
    expect($('.pc-phone')!.getAttribute('href')).toBe('tel:+74951234567');
    expect($('.pc-phone')!.textContent).toBe('+7 (495) 123-45-67');
    expect($('.pc-about')!.textContent).toBe('Routers.\nAlso switches.');
    expect($('.pc-box .av-xl img')!.getAttribute('src')).toBe(`${bobPhoto}&size=large`);
    expect($('.pc-deactivated')).toBeNull();
    expect([...card.querySelectorAll('button')].some((b) => b.textContent === 'Message')).toBe(true);
    expect(calls.map((c) => c.key)).toEqual(['GET /api/v1/users/2']);

    await act(() => {
      card.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    });
    expect($('dialog.profile-card')).toBeNull();
    expect(ui.get().profile).toBeNull();
  });

  it('opens from the avatar too, and closes on a click outside the card', async () => {
    fakeApi({ 'GET /api/v1/users/2': () => json(200, bob) });
    await show(
      <>
        <MessageItem message={message()} {...itemProps} people={client.state.people} />
        <ProfileCardHost />
      </>,
    );
    await act(() => $<HTMLButtonElement>('.msg-gutter .av-btn')!.click());
    await settle(() => expect($('.pc-phone')).not.toBeNull());
    // Inside the card: stays open.
    await act(() => $('.pc-about')!.click());
    expect($('dialog.profile-card')).not.toBeNull();
    // The backdrop around the card is the dialog element itself.
    await act(() => $('dialog.profile-card')!.click());
    expect($('dialog.profile-card')).toBeNull();
  });

  it('opens the direct conversation with "Message"', async () => {
    const dm = channel({ id: 40, kind: 'dm', name: null, member_ids: [1, 2] });
    fakeApi({ 'GET /api/v1/users/2': () => json(200, bob), 'POST /api/v1/dms': () => json(200, dm) });
    await show(<ProfileCardHost />);
    await act(() => openProfile(2, null));
    const send = await vi.waitFor(() => {
      const b = [...root.querySelectorAll('button')].find((x) => x.textContent === 'Message');
      if (!b) throw new Error('no Message button');
      return b;
    });
    // Without an element to sit beside, it is in the middle.
    expect($('dialog.profile-card')!.classList.contains('profile-card-center')).toBe(true);
    await act(() => send.click());
    await settle(() => expect(location.pathname).toBe('/c/40'));
    expect(calls.find((c) => c.key === 'POST /api/v1/dms')?.body).toEqual({ user_ids: [2] });
    expect(client.state.channels.get(40)).toBeDefined();
    expect($('dialog.profile-card')).toBeNull();
  });

  it('opens from a channel’s member list, over its details', async () => {
    client.addChannel(channel({ name: 'ops', last_seq: 3, last_read_seq: 3 }));
    fakeApi({ 'GET /api/v1/channels/4/members': () => json(200, [1, 2, 3]), 'GET /api/v1/users/2': () => json(200, bob) });
    await show(
      <>
        <Dialogs />
        <ProfileCardHost />
      </>,
    );
    await act(() => openDialog({ type: 'details', channelId: 4 }));
    await settle(() => expect(root.querySelectorAll('.details-members button.person')).toHaveLength(3));
    const members = [...root.querySelectorAll<HTMLButtonElement>('.details-members button.person')];
    expect(members[1]!.querySelector('.av img')!.getAttribute('src')).toBe(bobPhoto);
    expect(members[2]!.querySelector('.av img')).toBeNull();
    await act(() => members[1]!.click());
    await settle(() => expect($('.pc-phone')).not.toBeNull());
    expect($('#profile-card-name')!.textContent).toBe('Bob Stone');
    // Closing the card leaves the details open.
    await act(() => $<HTMLButtonElement>('.pc-close')!.click());
    expect($('dialog.profile-card')).toBeNull();
    expect(root.querySelector('.details-members')).not.toBeNull();
  });

  it('has no "Message" for oneself or a deactivated account, which it says', async () => {
    fakeApi({
      'GET /api/v1/users/1': () => json(200, { ...bob, id: 1, username: 'alice', display_name: 'Alice', photo_url: null }),
      'GET /api/v1/users/9': () =>
        json(200, { ...bob, id: 9, username: 'old', display_name: 'Old Timer', deactivated: true, phone: '', about: '' }),
    });
    await show(<ProfileCardHost />);
    await act(() => openProfile(1, null));
    await settle(() => expect($('#profile-card-name')!.textContent).toBe('Alice'));
    await settle(() => expect($('.loading')).toBeNull());
    expect([...root.querySelectorAll('button')].some((b) => b.textContent === 'Message')).toBe(false);
    expect($('.pc-box .av')!.textContent).toBe('A');

    // Not in the people list (deactivated): known once the profile has loaded.
    await act(() => openProfile(9, null));
    await settle(() => expect($('#profile-card-name')!.textContent).toBe('Old Timer'));
    expect($('.pc-deactivated')!.textContent).toBe('This account is deactivated.');
    expect($('.pc-phone')).toBeNull();
    expect([...root.querySelectorAll('button')].some((b) => b.textContent === 'Message')).toBe(false);
  });

  it('reads in Russian', async () => {
    setLocale('ru');
    fakeApi({ 'GET /api/v1/users/2': () => json(200, bob) });
    await show(<ProfileCardHost />);
    await act(() => openProfile(2, null));
    await settle(() => expect($('.pc-phone')).not.toBeNull());
    const labels = [...root.querySelectorAll('.pc-field dt')].map((d) => d.textContent);
    expect(labels).toEqual(['Должность', 'Отдел', 'Телефон', 'О себе']);
    expect([...root.querySelectorAll('button')].some((b) => b.textContent === 'Написать')).toBe(true);
  });
});
