// @vitest-environment happy-dom
//
// Linked sites in a conversation: the header's "Shared with HQ" (asked every 15 seconds while the
// channel is open, never after), a channel's linked sites in its details (sharing and stopping),
// and messages from people of a linked site ("Anna · HQ", "arrived late").

import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type ChannelLink, type LinkView, type Message, type Person } from '../../api';
import type { ChatClient } from '../../chat/client';
import { chatClient, message as fixtureMessage, mountRoot, renderInChat, unmountRoot, user } from '../../fixtures.test-util';
import { setLocale } from '../../i18n';
import { CHANNEL_LINKS_REFRESH_MS, ChannelLinkIndicator, ChannelLinksSection } from './ChannelLinks';
import { MessageItem } from './MessageItem';
import { ui } from './ui';

type Handler = (init: RequestInit) => Response | Promise<Response>;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const apiError = (status: number, code: string) => json(status, { error: { code, message: code } });

const share = (link_id: number, site_name: string, extra: Partial<ChannelLink> = {}): ChannelLink => ({
  link_id,
  site_name,
  home: false,
  state: 'connected',
  last_contact_at: Date.now() - 60_000,
  backlog_in: 0,
  backlog_out: 0,
  ...extra,
});

const link = (id: number, name: string, extra: Partial<LinkView> = {}): LinkView => ({
  id,
  site_id: `site-${id}`,
  name,
  fingerprint: 'AB:CD',
  addresses: ['10.0.0.5:8444'],
  state: 'connected',
  last_contact_at: Date.now() - 120_000,
  backlog_out: 0,
  backlog_in: 4,
  last_error: null,
  created_at: 0,
  ...extra,
});

let root: HTMLElement;
let client: ChatClient;
let calls: { key: string; body: unknown }[];

function fakeApi(handlers: Record<string, Handler>) {
  calls = [];
  setFetch(async (url, init) => {
    const key = `${init.method} ${url}`;
    calls.push({ key, body: init.body ? JSON.parse(init.body as string) : undefined });
    const handler = handlers[key];
    return handler ? handler(init) : apiError(404, 'not-found');
  });
}

const asked = (key: string) => calls.filter((c) => c.key === key).length;
const $ = <E extends Element = HTMLElement>(sel: string) => root.querySelector<E>(sel);
const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });
const labelled = (label: string) => $<HTMLButtonElement>(`button[aria-label="${label}"]`);

function button(text: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === text);
  if (!found) throw new Error(`no button ${text}`);
  return found;
}

beforeEach(() => {
  setLocale('en');
  localStorage.clear();
  client = chatClient(user());
  root = mountRoot();
  window.confirm = vi.fn(() => true);
  ui.set({ dialog: null });
});

afterEach(async () => {
  vi.useRealTimers();
  await unmountRoot(root);
  setFetch((input, init) => globalThis.fetch(input, init));
  setLocale('en');
});

describe('the header’s linked sites', () => {
  it('says who the channel is shared with, warns while a link is down, asks every 15 s and stops when closed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let answer = [share(1, 'HQ')];
    fakeApi({ 'GET /api/v1/channels/4/links': () => json(200, answer) });
    await renderInChat(root, <ChannelLinkIndicator channelId={4} />, { user: user(), client });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    const indicator = () => $<HTMLButtonElement>('.link-indicator');
    expect(indicator()?.textContent).toBe('Shared with HQ');
    expect(indicator()?.dataset.look).toBe('connected');
    expect(indicator()?.title).toBe('HQ: Connected, last contact 1 minute ago');
    expect(asked('GET /api/v1/channels/4/links')).toBe(1);

    // Nothing more until 15 seconds have passed, then once.
    answer = [share(1, 'HQ', { state: 'disconnected', last_contact_at: Date.now() - 3 * 3600_000 })];
    await act(async () => {
      await vi.advanceTimersByTimeAsync(CHANNEL_LINKS_REFRESH_MS - 1000);
    });
    expect(asked('GET /api/v1/channels/4/links')).toBe(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(asked('GET /api/v1/channels/4/links')).toBe(2);
    expect(indicator()?.classList.contains('link-indicator-down')).toBe(true);
    expect(indicator()?.querySelector('.link-indicator-warn')?.textContent).toBe('link down');
    expect(indicator()?.getAttribute('aria-label')).toBe('Shared with HQ · link down');
    expect(indicator()?.title).toBe('HQ: Link down, last contact 3 hours ago');

    // A click opens the channel's details.
    await act(() => indicator()!.click());
    expect(ui.get().dialog).toEqual({ type: 'details', channelId: 4 });

    await act(async () => {
      await vi.advanceTimersByTimeAsync(CHANNEL_LINKS_REFRESH_MS * 3);
    });
    expect(asked('GET /api/v1/channels/4/links')).toBe(5);
    await unmountRoot(root);
    root = mountRoot();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(CHANNEL_LINKS_REFRESH_MS * 4);
    });
    expect(asked('GET /api/v1/channels/4/links')).toBe(5);
  });

  it('names the home site of a channel of another site, shows nothing for a channel no site carries', async () => {
    fakeApi({
      'GET /api/v1/channels/4/links': () => json(200, [share(1, 'HQ', { home: true, state: 'paused' })]),
      'GET /api/v1/channels/5/links': () => json(200, []),
    });
    await renderInChat(root, <ChannelLinkIndicator channelId={4} />, { user: user(), client });
    await settle(() => expect($('.link-indicator')?.textContent).toBe('Shared from HQlink paused'));
    expect($('.link-indicator')?.getAttribute('aria-label')).toBe('Shared from HQ · link paused');
    await renderInChat(root, <ChannelLinkIndicator channelId={5} />, { user: user(), client });
    await settle(() => expect(asked('GET /api/v1/channels/5/links')).toBe(1));
    expect($('.link-indicator')).toBeNull();
  });

  it('stops asking a server without linked sites (404)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    fakeApi({});
    await renderInChat(root, <ChannelLinkIndicator channelId={4} />, { user: user(), client });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(CHANNEL_LINKS_REFRESH_MS * 4);
    });
    expect(asked('GET /api/v1/channels/4/links')).toBe(1);
    expect($('.link-indicator')).toBeNull();
  });
});

describe('a channel’s linked sites in its details', () => {
  it('lets an administrator share the channel with another linked site and stop sharing', async () => {
    let shares = [share(1, 'HQ', { backlog_out: 2 })];
    fakeApi({
      'GET /api/v1/channels/4/links': () => json(200, shares),
      'GET /api/v1/admin/links': () => json(200, [link(1, 'HQ'), link(2, 'Depot'), link(3, 'Airfield')]),
      'PUT /api/v1/channels/4/links/2': () => {
        shares = [...shares, share(2, 'Depot')];
        return json(200, shares.map(({ link_id, site_name, home }) => ({ link_id, site_name, home })));
      },
      'DELETE /api/v1/channels/4/links/1': () => {
        shares = shares.filter((s) => s.link_id !== 1);
        return json(200, shares.map(({ link_id, site_name, home }) => ({ link_id, site_name, home })));
      },
    });
    await renderInChat(root, <ChannelLinksSection channelId={4} channelName="general" manage isAdmin />, { user: user({ is_admin: true }), client });
    await settle(() => expect($('select')).not.toBeNull());
    const hq = $('li[data-link-id="1"]')!;
    expect(hq.textContent).toContain('HQ');
    expect(hq.textContent).toContain('Connected');
    expect(hq.textContent).toContain('last contact 1 minute ago');
    expect(hq.textContent).toContain('2 changes to send');
    // The links not shared yet, by name.
    expect([...root.querySelectorAll('option')].map((o) => o.textContent)).toEqual(['Airfield', 'Depot']);

    const select = $<HTMLSelectElement>('select')!;
    await act(() => {
      select.value = '2';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(() => button('Share').click());
    await settle(() => expect(root.textContent).toContain('#general is now shared with Depot.'));
    const depot = $('li[data-link-id="2"]')!;
    // The answer has no states: those of the administrator's list until the next answer.
    expect(depot.textContent).toContain('Connected');
    expect(depot.textContent).toContain('4 changes to receive');
    expect([...root.querySelectorAll('option')].map((o) => o.textContent)).toEqual(['Airfield']);

    await act(() => labelled('Stop sharing with HQ')!.click());
    expect(window.confirm).toHaveBeenCalledWith('Stop sharing #general with HQ? Its people get no new messages of this channel from then on.');
    await settle(() => expect(root.textContent).toContain('#general is no longer shared with HQ.'));
    expect($('li[data-link-id="1"]')).toBeNull();
    expect([...root.querySelectorAll('option')].map((o) => o.textContent)).toEqual(['Airfield', 'HQ']);
  });

  it('says why sharing failed, in words', async () => {
    fakeApi({
      'GET /api/v1/channels/4/links': () => json(200, []),
      'GET /api/v1/admin/links': () => json(200, [link(2, 'Depot')]),
      'PUT /api/v1/channels/4/links/2': () =>
        json(400, { error: { code: 'not-shareable', message: 'x', field: 'channel_id' } }),
    });
    await renderInChat(root, <ChannelLinksSection channelId={4} channelName="general" manage isAdmin />, { user: user({ is_admin: true }), client });
    await settle(() => expect($('select')).not.toBeNull());
    expect(root.textContent).toContain('Not shared with any linked site.');
    await act(() => button('Share').click());
    await settle(() => expect(root.textContent).toContain('Channel: only this site’s own channels can be shared with a linked site.'));
  });

  it('shows owners who are not administrators the shares, without the list of links', async () => {
    fakeApi({ 'GET /api/v1/channels/4/links': () => json(200, [share(1, 'HQ', { state: 'disconnected', last_contact_at: null })]) });
    await renderInChat(root, <ChannelLinksSection channelId={4} channelName="general" manage isAdmin={false} />, { user: user(), client });
    await settle(() => expect($('li[data-link-id="1"]')).not.toBeNull());
    expect($('li[data-link-id="1"]')!.textContent).toContain('Link down');
    expect($('li[data-link-id="1"]')!.textContent).toContain('never in contact yet');
    expect(root.textContent).toContain('An administrator can share this channel with a linked site.');
    expect(labelled('Stop sharing with HQ')).not.toBeNull();
    expect($('select')).toBeNull();
    expect(asked('GET /api/v1/admin/links')).toBe(0);
  });

  it('shows members the sites while some carry the channel, and a channel of another site without sharing', async () => {
    let shares: ChannelLink[] = [];
    fakeApi({ 'GET /api/v1/channels/4/links': () => json(200, shares) });
    await renderInChat(root, <ChannelLinksSection channelId={4} channelName="general" manage={false} isAdmin={false} />, { user: user(), client });
    await settle(() => expect(asked('GET /api/v1/channels/4/links')).toBe(1));
    expect($('.channel-links')).toBeNull();

    shares = [share(1, 'HQ', { home: true })];
    await unmountRoot(root);
    root = mountRoot();
    await renderInChat(root, <ChannelLinksSection channelId={4} channelName="general" manage isAdmin />, { user: user({ is_admin: true }), client });
    await settle(() => expect($('li[data-link-id="1"]')).not.toBeNull());
    expect(root.textContent).toContain('This channel belongs to HQ');
    expect($('li[data-link-id="1"]')!.textContent).toContain('Home site');
    // Its home decides who takes part: nothing to share or stop here.
    expect(labelled('Stop sharing with HQ')).toBeNull();
    expect($('select')).toBeNull();
  });
});

describe('messages from a linked site', () => {
  const people = new Map<number, Person>([
    [1, { id: 1, username: 'alice', display_name: 'Alice', presence: 'online' }],
    [2, { id: 2, username: 'anna', display_name: 'Anna', presence: 'online', site: 'HQ' }],
  ]);
  const props = {
    first: true,
    meId: 1,
    isAdmin: false,
    canModerate: false,
    people,
    mentions: { me: 'alice', known: () => false },
    highlight: false,
    editing: false,
    onEdit: () => {},
  };
  const msg = (extra: Partial<Message> = {}) => fixtureMessage({ author_id: 2, sort_key: 1000, ...extra });

  it('name the author with their site, and mark a message that arrived late', async () => {
    fakeApi({});
    await renderInChat(root, <MessageItem {...props} message={msg({ late: true })} />, { user: user(), client });
    expect($('.msg-author')?.textContent).toBe('Anna · HQ');
    // The avatar's initials come from the name alone.
    expect($('.msg-gutter')?.textContent).toBe('A');
    const late = $('.msg-late-tag')!;
    expect(late.textContent).toBe('arrived late');
    expect(late.title).toBe('Sent at this time, but it arrived late from a linked site, after newer messages.');
    expect($('.msg')!.classList.contains('msg-late')).toBe(true);
    setLocale('ru');
    await renderInChat(root, <MessageItem {...props} message={msg({ id: 8, late: true })} />, { user: user(), client });
    expect($('.msg-late-tag')?.textContent).toBe('пришло с опозданием');
  });

  it('show no site for this site’s people and no mark for messages in order', async () => {
    fakeApi({});
    await renderInChat(root, <MessageItem {...props} message={msg({ author_id: 1 })} />, { user: user(), client });
    expect($('.msg-author')?.textContent).toBe('Alice');
    expect($('.msg-late-tag')).toBeNull();
  });
});
