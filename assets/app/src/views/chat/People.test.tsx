// @vitest-environment happy-dom
//
// People and notifications in the UI: the directory, statuses, deactivated accounts, the
// status dialog, a conversation's notifications, read receipts, and the preferences.

import { render } from 'preact';
import { useState } from 'preact/hooks';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MUTED_FOR_GOOD, setFetch, type Channel, type Person, type User } from '../../api';
import { CallsContext } from '../../calls/context';
import { CallManager } from '../../calls/manager';
import { ChatContext, type ChatClient } from '../../chat/client';
import { channel as fixtureChannel, chatClient, message, mountRoot, unmountRoot, user as fixtureUser } from '../../fixtures.test-util';
import { getLocale, setLocale } from '../../i18n';
import { SessionContext } from '../../session';
import { NotificationsCard } from '../NotificationsCard';
import { PeopleView } from '../PeopleView';
import { ChannelView } from './ChannelView';
import { Dialogs } from './Dialogs';
import { MessageItem } from './MessageItem';
import { ProfileCardHost } from './ProfileCard';
import { Sidebar } from './Sidebar';
import { openDialog, openProfile, ui } from './ui';

const me = fixtureUser();

const later = Date.now() + 3 * 3_600_000;
const people: Person[] = [
  { id: 1, username: 'alice', display_name: 'Alice', presence: 'online' },
  {
    id: 2,
    username: 'bob',
    display_name: 'Bob Stone',
    presence: 'away',
    title: 'Network Engineer',
    department: 'Networks',
    status: { emoji: '🤒', text: 'Out sick', expires_at: later },
    deactivated: false,
  },
  { id: 3, username: 'anna', display_name: 'Анна Петрова', presence: 'online', title: 'Инженер', department: 'Связь' },
  { id: 4, username: 'carl', display_name: 'Carl Old', presence: 'offline', deactivated: true, photo_url: '/api/v1/users/4/photo?v=3' },
];

const channel = (extra: Partial<Channel> = {}) =>
  fixtureChannel({ name: 'ops', last_seq: 3, last_read_seq: 3, notify: 'all', muted_until: null, mass_mentions: 'everyone', ...extra });

let root: HTMLElement;
let client: ChatClient;
let calls: { key: string; body: unknown }[];
let currentUser: User;

type Handler = (body: unknown) => Response;

function fakeApi(routes: Record<string, Handler>) {
  calls = [];
  setFetch(async (url, init) => {
    const key = `${init.method} ${url}`;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ key, body });
    const handler = routes[key];
    if (!handler) return json(404, { error: { code: 'not-found', message: `no fake for ${key}` } });
    return handler(body);
  });
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const noContent = () => new Response(null, { status: 204 });

function Session({ user, children }: { user: User; children: preact.ComponentChildren }) {
  const [u, setU] = useState(user);
  currentUser = u;
  return (
    <SessionContext.Provider value={{ user: u, setUser: setU }}>
      <ChatContext.Provider value={client}>
        <CallsContext.Provider value={new CallManager(client)}>{children}</CallsContext.Provider>
      </ChatContext.Provider>
    </SessionContext.Provider>
  );
}

async function show(node: preact.ComponentChildren, user: User = me) {
  await act(() => render(<Session user={user}>{node}</Session>, root));
}

const $ = <E extends Element = HTMLElement>(sel: string) => root.querySelector<E>(sel);
const $$ = <E extends Element = HTMLElement>(sel: string) => [...root.querySelectorAll<E>(sel)];
const settle = <T,>(check: () => T) => vi.waitFor(check, { timeout: 1000, interval: 5 });
/** Waits for an element to be there and returns it. */
const found = <T,>(get: () => T | null | undefined) =>
  settle(() => {
    const el = get();
    if (!el) throw new Error('not there yet');
    return el;
  });
const button = (text: string) => {
  const b = $$<HTMLButtonElement>('button').find((x) => x.textContent?.trim() === text);
  if (!b) throw new Error(`no button ${text}`);
  return b;
};

async function typeInto(input: HTMLInputElement, value: string) {
  await act(() => {
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

async function choose(select: HTMLSelectElement, value: string) {
  await act(() => {
    select.value = value;
    select.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

beforeEach(() => {
  setLocale('en');
  localStorage.clear();
  client = chatClient(me);
  client.setPeople(people);
  client.store.set({ ready: true });
  root = mountRoot();
  fakeApi({});
});

afterEach(async () => {
  openProfile(null);
  openDialog(null);
  await unmountRoot(root);
  setFetch((input, init) => globalThis.fetch(input, init));
  setLocale('en');
  localStorage.clear();
});

describe('people directory', () => {
  const names = () => $$('.dir-name').map((n) => n.textContent);

  it('lists everyone, deactivated accounts last and marked, with status and job', async () => {
    await show(<PeopleView />);
    expect($('h1')!.textContent).toBe('People');
    expect(names()).toEqual(['Alice', 'Bob Stone', 'Анна Петрова', 'Carl Old']);
    expect($('.people-count')!.textContent).toBe('4 people');
    const bob = $('[data-user-id="2"]')!;
    expect(bob.querySelector('.status-emoji')!.textContent).toBe('🤒');
    expect(bob.querySelector('.status-emoji')!.getAttribute('title')).toMatch(/^Out sick \(until /);
    expect(bob.querySelector('.dir-meta')!.textContent).toBe('@bob · Network Engineer · Networks');
    expect(bob.querySelector('.presence-away')).not.toBeNull();
    const carl = $('[data-user-id="4"]')!;
    expect(carl.classList.contains('dir-deactivated')).toBe(true);
    expect(carl.querySelector('.deactivated-tag')!.textContent).toBe('deactivated');
    // The photo stays; no presence for a deactivated account.
    expect(carl.querySelector('.av img')!.getAttribute('src')).toBe('/api/v1/users/4/photo?v=3');
    expect(carl.querySelector('.presence')).toBeNull();
    expect($('[data-user-id="1"] .dir-you')!.textContent).toBe('(you)');
  });

  it('searches names, user names, job titles and departments, in Latin and Cyrillic', async () => {
    await show(<PeopleView />);
    const input = $<HTMLInputElement>('input[type="search"]')!;
    await typeInto(input, 'ИНЖЕНЕР');
    expect(names()).toEqual(['Анна Петрова']);
    await typeInto(input, 'engineer');
    expect(names()).toEqual(['Bob Stone']);
    await typeInto(input, 'networks');
    expect(names()).toEqual(['Bob Stone']);
    await typeInto(input, 'связь');
    expect(names()).toEqual(['Анна Петрова']);
    await typeInto(input, 'CARL');
    expect(names()).toEqual(['Carl Old']);
    await typeInto(input, 'zzz');
    expect(names()).toEqual([]);
    expect($('.people-count')!.textContent).toBe('Nobody matches “zzz”.');
  });

  it('opens the profile card of a person', async () => {
    await show(<PeopleView />);
    const b = $<HTMLButtonElement>('[data-user-id="2"] button')!;
    await act(() => b.click());
    expect(ui.get().profile).toEqual({ userId: 2, anchor: b });
  });

  it('reads in Russian', async () => {
    setLocale('ru');
    await show(<PeopleView />);
    expect($('h1')!.textContent).toBe('Люди');
    expect($('.people-count')!.textContent).toBe('4 человека');
    expect($('[data-user-id="4"] .deactivated-tag')!.textContent).toBe('отключён');
    // Cyrillic names first in Russian.
    expect(names()[0]).toBe('Анна Петрова');
  });
});

describe('statuses and deactivated accounts in messages and cards', () => {
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

  it('shows the status emoji after the author’s name, with the text as its tooltip', async () => {
    await show(<MessageItem message={message()} {...itemProps} people={client.state.people} />);
    const emoji = $('.msg-head .status-emoji')!;
    expect(emoji.textContent).toBe('🤒');
    expect(emoji.getAttribute('aria-label')).toBe('Status: Out sick');
    expect($('.msg-head .deactivated-tag')).toBeNull();
  });

  it('keeps the name and photo of a deactivated author, marked', async () => {
    await show(<MessageItem message={message({ author_id: 4 })} {...itemProps} people={client.state.people} />);
    expect($('.msg-author')!.textContent).toBe('Carl Old');
    expect($('.msg-gutter .av img')!.getAttribute('src')).toBe('/api/v1/users/4/photo?v=3');
    expect($('.msg-head .deactivated-tag')!.textContent).toBe('deactivated');
    expect($('.msg-head .deactivated-tag')!.getAttribute('title')).toBe('This account is deactivated.');
  });

  it('hides an expired status', async () => {
    client.setPeople(people.map((p) => (p.id === 2 ? { ...p, status: { emoji: '📅', text: 'Meeting', expires_at: Date.now() - 1 } } : p)));
    await show(<MessageItem message={message()} {...itemProps} people={client.state.people} />);
    expect($('.status-emoji')).toBeNull();
  });

  it('shows the status in the profile card, and changes live with user.updated', async () => {
    const bob = people[1]!;
    fakeApi({ 'GET /api/v1/users/2': () => json(200, { ...bob, phone: '', about: '' }) });
    await show(<ProfileCardHost />);
    await act(() => openProfile(2, null));
    await settle(() => expect($('.pc-status')).not.toBeNull());
    expect($('.pc-status-emoji')!.textContent).toBe('🤒');
    expect($('.pc-status-text')!.textContent).toBe('Out sick');
    expect($('.pc-status-until')!.textContent).toMatch(/^until /);
    // Another status arrives (as a user.updated frame does): the card follows at once.
    await act(() =>
      client.setPeople(people.map((p) => (p.id === 2 ? { ...p, display_name: 'Robert', status: { emoji: '🌴', text: 'On leave', expires_at: null } } : p))),
    );
    expect($('#profile-card-name')!.textContent).toBe('Robert');
    expect($('.pc-status-emoji')!.textContent).toBe('🌴');
    expect($('.pc-status-until')).toBeNull();
  });

  it('offers no one deactivated to message', async () => {
    await show(<Dialogs />);
    await act(() => openDialog('direct'));
    const input = $$<HTMLInputElement>('input').find((i) => i.id && $(`label[for="${i.id}"]`)) as HTMLInputElement;
    await typeInto(input, 'c');
    expect($$('.people-list .person-name').map((n) => n.textContent)).not.toContain('Carl Old');
  });
});

describe('status dialog', () => {
  async function openStatus(user: User = me) {
    await show(<Dialogs />, user);
    await act(() => openDialog('status'));
  }

  it('offers the six "clear after" values and sends the status', async () => {
    fakeApi({ 'PUT /api/v1/me/status': (body) => json(200, { ...me, status: { ...(body as object), expires_at: null } }) });
    await openStatus();
    expect($('#modal-title')!.textContent).toBe('Set a status');
    const select = $<HTMLSelectElement>('.status-form select')!;
    expect($$<HTMLOptionElement>('.status-form select option').map((o) => [o.value, o.textContent])).toEqual([
      ['30m', '30 minutes'],
      ['1h', '1 hour'],
      ['4h', '4 hours'],
      ['today', 'Today'],
      ['week', 'This week'],
      ['never', 'Don’t clear'],
    ]);
    expect(select.value).toBe('today');
    // A preset fills the emoji, the text and when it clears.
    await act(() => $$<HTMLButtonElement>('.preset').find((b) => b.textContent?.includes('On the way'))!.click());
    expect($<HTMLInputElement>('.status-input-row input')!.value).toBe('On the way');
    expect($('.status-emoji-btn')!.textContent).toBe('🚗');
    expect(select.value).toBe('30m');
    await choose(select, 'week');
    await act(() => button('Save').click());
    await settle(() => expect(calls.map((c) => c.key)).toContain('PUT /api/v1/me/status'));
    expect(calls.find((c) => c.key === 'PUT /api/v1/me/status')!.body).toEqual({ emoji: '🚗', text: 'On the way', clear_after: 'week', time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone });
    await settle(() => expect($('.status-form')).toBeNull());
    expect(currentUser.status).toMatchObject({ emoji: '🚗', text: 'On the way' });
  });

  it('picks the emoji from the emoji picker', async () => {
    fakeApi({ 'PUT /api/v1/me/status': (body) => json(200, { ...me, status: { ...(body as object), expires_at: null } }) });
    await openStatus();
    await act(() => $<HTMLButtonElement>('.status-emoji-btn')!.click());
    await act(() => $<HTMLButtonElement>('.status-picker .emoji-btn[aria-label="🌴"]')!.click());
    expect($('.status-emoji-btn')!.textContent).toBe('🌴');
    expect($('.status-picker')).toBeNull();
    await act(() => button('Save').click());
    await settle(() => expect(calls.find((c) => c.key === 'PUT /api/v1/me/status')?.body).toEqual({ emoji: '🌴', text: '', clear_after: 'today', time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone }));
  });

  it('refuses a text over 100 characters before sending', async () => {
    await openStatus();
    await typeInto($<HTMLInputElement>('.status-input-row input')!, 'x'.repeat(101));
    await act(() => button('Save').click());
    expect($('.field-error')!.textContent).toBe('A status is at most 100 characters.');
    expect(calls).toEqual([]);
  });

  it('clears the status', async () => {
    const withStatus = { ...me, status: { emoji: '📅', text: 'In a meeting', expires_at: null } };
    fakeApi({ 'DELETE /api/v1/me/status': () => json(200, { ...me, status: null }) });
    await openStatus(withStatus);
    expect($<HTMLInputElement>('.status-input-row input')!.value).toBe('In a meeting');
    expect($<HTMLSelectElement>('.status-form select')!.value).toBe('never');
    await act(() => button('Clear status').click());
    await settle(() => expect(calls.map((c) => c.key)).toEqual(['DELETE /api/v1/me/status']));
    await settle(() => expect(currentUser.status).toBeNull());
  });

  it('reads in Russian', async () => {
    setLocale('ru');
    await openStatus();
    expect($$('.status-form select option').map((o) => o.textContent)).toEqual([
      'Через 30 минут',
      'Через час',
      'Через 4 часа',
      'В конце дня',
      'В конце недели',
      'Не убирать',
    ]);
    expect($$('.preset-text').map((o) => o.textContent)).toEqual(['На встрече', 'В пути', 'На больничном', 'В отпуске']);
  });
});

describe('a conversation’s notifications', () => {
  async function details(c: Channel) {
    client.addChannel(c);
    await show(<Dialogs />);
    await act(() => openDialog({ type: 'details', channelId: c.id }));
  }

  it('sets the level and mutes for a while, then unmutes', async () => {
    fakeApi({
      'GET /api/v1/channels/4/members': () => json(200, [1, 2]),
      'PUT /api/v1/channels/4/notifications': () => noContent(),
    });
    await details(channel());
    const radios = $$<HTMLInputElement>('.notify-levels input[type="radio"]');
    expect(radios.map((r) => [r.value, r.checked])).toEqual([
      ['all', true],
      ['mentions', false],
      ['none', false],
    ]);
    await act(() => radios[1]!.click());
    await settle(() => expect(client.state.channels.get(4)!.notify).toBe('mentions'));
    expect(calls.find((c) => c.key === 'PUT /api/v1/channels/4/notifications')!.body).toEqual({ notify: 'mentions', muted_until: null });

    const before = Date.now();
    await act(() => button('8 hours').click());
    await settle(() => expect(client.state.channels.get(4)!.muted_until).not.toBeNull());
    const body = calls.filter((c) => c.key === 'PUT /api/v1/channels/4/notifications').at(-1)!.body as { notify: string; muted_until: number };
    expect(body.notify).toBe('mentions');
    expect(body.muted_until).toBeGreaterThanOrEqual(before + 8 * 3_600_000);
    expect(body.muted_until).toBeLessThan(before + 8 * 3_600_000 + 10_000);
    await settle(() => expect($('.mute-state')!.textContent).toMatch(/^Muted until /));

    await act(() => button('Unmute').click());
    await settle(() => expect(client.state.channels.get(4)!.muted_until).toBeNull());
    expect(calls.filter((c) => c.key === 'PUT /api/v1/channels/4/notifications').at(-1)!.body).toEqual({ notify: 'mentions', muted_until: null });
  });

  it('mutes a direct conversation until unmuted', async () => {
    fakeApi({
      'GET /api/v1/channels/40/members': () => json(200, [1, 2]),
      'PUT /api/v1/channels/40/notifications': () => noContent(),
    });
    await details(channel({ id: 40, kind: 'dm', name: null, member_ids: [1, 2] }));
    await act(() => button('Until I unmute').click());
    await settle(() => expect(client.state.channels.get(40)!.muted_until).toBe(MUTED_FOR_GOOD));
    await settle(() => expect($('.mute-state')!.textContent).toBe('Muted until you unmute it.'));
  });

  it('lets owners choose who may notify everyone', async () => {
    fakeApi({
      'GET /api/v1/channels/4/members': () => json(200, [1, 2]),
      'PATCH /api/v1/channels/4': (body) => json(200, { ...channel(), ...(body as object) }),
    });
    await details(channel({ role: 'owner' }));
    const select = $<HTMLSelectElement>('#details-mass')!;
    expect($(`label[for="details-mass"]`)!.textContent).toBe('Who can notify everyone (@channel, @here)');
    expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
      ['everyone', 'Everyone'],
      ['owners', 'Only owners'],
    ]);
    await choose(select, 'owners');
    await settle(() => expect(client.state.channels.get(4)!.mass_mentions).toBe('owners'));
    expect(calls.find((c) => c.key === 'PATCH /api/v1/channels/4')!.body).toEqual({ mass_mentions: 'owners' });
  });

  it('is not offered to members who do not own the channel', async () => {
    fakeApi({ 'GET /api/v1/channels/4/members': () => json(200, [1, 2]) });
    await details(channel());
    expect($('#details-mass')).toBeNull();
  });

  it('dims muted conversations in the sidebar, where only mentions count', async () => {
    client.addChannel(channel({ unread: 5, mentions: 0, muted_until: MUTED_FOR_GOOD }));
    client.addChannel(channel({ id: 40, kind: 'dm', name: null, member_ids: [1, 2], unread: 2, muted_until: Date.now() + 60_000 }));
    client.addChannel(channel({ id: 41, kind: 'dm', name: null, member_ids: [1, 3], unread: 2 }));
    await show(<Sidebar route={{ name: 'home' }} onNavigate={() => {}} onSignOut={() => {}} />);
    const link = (id: number) => $(`a[data-channel="${id}"]`)!;
    expect(link(4).classList.contains('ch-muted')).toBe(true);
    expect(link(4).classList.contains('ch-unread')).toBe(false);
    expect(link(4).querySelector('.muted-icon')).not.toBeNull();
    expect(link(4).getAttribute('aria-label')).toBe('ops, muted');
    expect(link(40).classList.contains('ch-muted')).toBe(true);
    expect(link(40).querySelector('.ch-badge')).toBeNull();
    // The direct conversation with Bob shows his status.
    expect(link(40).querySelector('.status-emoji')!.textContent).toBe('🤒');
    expect(link(41).querySelector('.ch-badge')!.textContent).toBe('2');
    // People are in the menu.
    expect($('a[href="/people"]')!.textContent).toBe('People');
  });
});

describe('read receipts', () => {
  const dm = channel({ id: 40, kind: 'dm', name: null, member_ids: [1, 2], last_seq: 3, last_read_seq: 3 });
  const group = channel({ id: 41, kind: 'group', name: null, member_ids: [1, 2, 3], last_seq: 3, last_read_seq: 3 });
  // No layout here: give the message list a window's height so every row renders.
  beforeEach(() => {
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(800);
    vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockReturnValue(40);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const history = (channelId: number) => [
    message({ id: 10, channel_id: channelId, seq: 1, author_id: 1, body: 'one' }),
    message({ id: 11, channel_id: channelId, seq: 2, author_id: 1, body: 'two' }),
    message({ id: 12, channel_id: channelId, seq: 3, author_id: 2, body: 'three' }),
  ];

  it('shows "Seen" under my latest message the other person read, and moves with receipt events', async () => {
    fakeApi({
      'GET /api/v1/channels/40/messages?limit=50': () => json(200, history(40)),
      'GET /api/v1/channels/40/receipts': () => json(200, [{ user_id: 2, seq: 1, read_at: Date.now() }]),
    });
    client.addChannel(dm);
    await show(<ChannelView channelId={40} seq={null} />);
    await settle(() => expect($('.seen-line')).not.toBeNull());
    // Under the first message (seq 1), not the second.
    const row = $('.seen-line')!.closest('.vl-row')!;
    expect(row.querySelector('.msg')!.getAttribute('data-id')).toBe('10');
    expect($('.seen-line [aria-hidden]')!.textContent).toBe('Seen');
    expect($('.seen-line')!.getAttribute('title')).toMatch(/^Bob Stone — /);
    // Bob reads on (a receipt event): the line moves to the later message.
    await act(() =>
      client.store.set({ receipts: new Map([[40, [{ user_id: 2, seq: 3, read_at: Date.now() }]]]) }),
    );
    expect($$('.seen-line')).toHaveLength(1);
    expect($('.seen-line')!.closest('.vl-row')!.querySelector('.msg')!.getAttribute('data-id')).toBe('11');
  });

  it('says how many have seen it in a group, and who in the tooltip', async () => {
    fakeApi({
      'GET /api/v1/channels/41/messages?limit=50': () => json(200, history(41)),
      'GET /api/v1/channels/41/receipts': () =>
        json(200, [
          { user_id: 2, seq: 3, read_at: Date.now() - 1000 },
          { user_id: 3, seq: 2, read_at: Date.now() },
        ]),
    });
    client.addChannel(group);
    await show(<ChannelView channelId={41} seq={null} />);
    await settle(() => expect($('.seen-line')).not.toBeNull());
    expect($('.seen-line [aria-hidden]')!.textContent).toBe('Seen by 2');
    expect($('.seen-line')!.getAttribute('title')!.split('\n').map((l) => l.split(' — ')[0])).toEqual(['Bob Stone', 'Анна Петрова']);
    expect($('.seen-line')!.getAttribute('data-readers')).toBe('2,3');
  });

  it('shows nothing in channels, or before anyone has read', async () => {
    fakeApi({
      'GET /api/v1/channels/40/messages?limit=50': () => json(200, history(40)),
      'GET /api/v1/channels/40/receipts': () => json(200, []),
    });
    client.addChannel(dm);
    await show(<ChannelView channelId={40} seq={null} />);
    await settle(() => expect($('.msg')).not.toBeNull());
    await settle(() => expect(calls.map((c) => c.key)).toContain('GET /api/v1/channels/40/receipts'));
    expect($('.seen-line')).toBeNull();
  });
});

describe('notification preferences', () => {
  const prefs = {
    time_zone: '',
    dnd_until: null as number | null,
    dnd_start: null as string | null,
    dnd_end: null as string | null,
    keywords: ['convoy'],
    read_receipts: true,
    language: '' as '' | 'en' | 'ru',
  };
  let saved: typeof prefs;

  function preferencesApi() {
    saved = { ...prefs };
    fakeApi({
      'GET /api/v1/me/preferences': () => json(200, saved),
      'PATCH /api/v1/me/preferences': (body) => {
        const b = body as Partial<typeof prefs>;
        saved = { ...saved, ...b, keywords: (b.keywords ?? saved.keywords).map((k) => k.toLowerCase()) };
        return json(200, saved);
      },
    });
  }
  const patches = () => calls.filter((c) => c.key === 'PATCH /api/v1/me/preferences').map((c) => c.body);

  it('turns do not disturb on for a while and off again', async () => {
    preferencesApi();
    await show(<NotificationsCard />);
    await settle(() => expect($('.dnd-state')!.textContent).toBe('Off: you get notifications.'));
    const before = Date.now();
    await act(() => button('1 hour').click());
    await settle(() => expect(patches()).toHaveLength(1));
    const until = (patches()[0] as { dnd_until: number }).dnd_until;
    expect(until).toBeGreaterThanOrEqual(before + 3_600_000);
    await settle(() => expect($('.dnd-state')!.textContent).toMatch(/^On until .*: no notifications\.$/));
    expect(client.state.preferences?.dnd_until).toBe(until);
    await act(() => button('Turn off').click());
    await settle(() => expect(patches().at(-1)).toEqual({ dnd_until: null }));
    await settle(() => expect($('.dnd-state')!.textContent).toBe('Off: you get notifications.'));
  });

  it('sets "until tomorrow 08:00" in the chosen time zone', async () => {
    preferencesApi();
    saved.time_zone = 'Asia/Tokyo';
    await show(<NotificationsCard />);
    await settle(() => button('Until tomorrow 08:00'));
    await act(() => button('Until tomorrow 08:00').click());
    await settle(() => expect(patches()).toHaveLength(1));
    const until = (patches()[0] as { dnd_until: number }).dnd_until;
    const tokyo = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    expect(tokyo.format(until)).toBe('08:00');
    expect(until - Date.now()).toBeGreaterThan(8 * 3_600_000);
    expect(until - Date.now()).toBeLessThanOrEqual(32 * 3_600_000);
  });

  it('sets and removes the daily quiet time', async () => {
    preferencesApi();
    await show(<NotificationsCard />);
    const check = await found(() => $$<HTMLInputElement>('input[type="checkbox"]').find((c) => c.closest('label')?.textContent === 'Pause notifications every day'));
    await act(() => check.click());
    await settle(() => expect(patches()).toEqual([{ dnd_start: '22:00', dnd_end: '08:00' }]));
    const [from, to] = $$<HTMLInputElement>('input[type="time"]');
    await typeInto(from!, '19:30');
    await typeInto(to!, '07:00');
    await act(() => button('Save').click());
    await settle(() => expect(patches().at(-1)).toEqual({ dnd_start: '19:30', dnd_end: '07:00' }));
    await typeInto(to!, '19:30');
    await act(() => button('Save').click());
    expect($('.field-error')!.textContent).toBe('Choose two different times.');
    expect(patches()).toHaveLength(2);
    await act(() => check.click());
    await settle(() => expect(patches().at(-1)).toEqual({ dnd_start: null, dnd_end: null }));
  });

  it('edits keywords as chips: comma or Enter adds, × removes', async () => {
    preferencesApi();
    await show(<NotificationsCard />);
    await settle(() => expect($$('.keyword-chips .chip').map((c) => c.firstChild!.textContent)).toEqual(['convoy']));
    const input = $<HTMLInputElement>(`#${CSS.escape($$<HTMLLabelElement>('label').find((l) => l.textContent === 'Keywords')!.htmlFor)}`)!;
    await typeInto(input, 'Fuel Truck,');
    await settle(() => expect(patches().at(-1)).toEqual({ keywords: ['convoy', 'fuel truck'] }));
    expect(input.value).toBe('');
    await typeInto(input, 'Колонна');
    await act(() => {
      input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    });
    await settle(() => expect(patches().at(-1)).toEqual({ keywords: ['convoy', 'fuel truck', 'колонна'] }));
    await settle(() => expect($$('.keyword-chips .chip')).toHaveLength(3));
    await act(() => $<HTMLButtonElement>('button[aria-label="Remove convoy"]')!.click());
    await settle(() => expect(patches().at(-1)).toEqual({ keywords: ['fuel truck', 'колонна'] }));
    await typeInto(input, `${'x'.repeat(41)},`);
    expect($('.field-error')!.textContent).toBe('A keyword is at most 40 characters.');
  });

  it('switches read receipts and the time zone', async () => {
    preferencesApi();
    await show(<NotificationsCard />);
    const receipts = await found(() => $<HTMLInputElement>('input[role="switch"]'));
    expect(receipts.checked).toBe(true);
    await act(() => receipts.click());
    await settle(() => expect(patches().at(-1)).toEqual({ read_receipts: false }));
    const zone = $$<HTMLSelectElement>('select').find((s) => [...s.options].some((o) => o.value === 'Europe/Moscow'))!;
    expect(zone.value).toBe('');
    expect(zone.options[0]!.textContent).toMatch(/^This device’s \(.+\)$/);
    await choose(zone, 'Europe/Moscow');
    await settle(() => expect(patches().at(-1)).toEqual({ time_zone: 'Europe/Moscow' }));
  });

  it('switches the language at once and remembers it', async () => {
    preferencesApi();
    await show(<NotificationsCard />);
    const select = await found(() => $$<HTMLSelectElement>('select').find((s) => [...s.options].some((o) => o.value === 'ru')));
    expect([...select.options].map((o) => o.textContent)).toEqual(['Browser default', 'English', 'Русский']);
    await choose(select, 'ru');
    await settle(() => expect(getLocale()).toBe('ru'));
    expect(patches().at(-1)).toEqual({ language: 'ru' });
    expect(localStorage.getItem('outpost.language')).toBe('ru');
    await settle(() => expect($('#profile-notifications')!.textContent).toBe('Уведомления'));
    await choose(select, '');
    await settle(() => expect(localStorage.getItem('outpost.language')).toBeNull());
  });

  it('is not shown by a server without preferences', async () => {
    await show(<NotificationsCard />);
    await settle(() => expect(calls.map((c) => c.key)).toContain('GET /api/v1/me/preferences'));
    await settle(() => expect($('.prefs-card')).toBeNull());
  });
});
