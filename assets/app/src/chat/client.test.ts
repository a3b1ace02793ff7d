// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type Message, type Preferences } from '../api';
import { channel, FakeSocket, file as fixtureFile, message as fixtureMessage, user } from '../fixtures.test-util';
import { ChatClient } from './client';

const me = user();

const general = channel({ last_seq: 2, last_read_seq: 2 });

const message = (id: number, seq: number, extra: Partial<Message> = {}) =>
  fixtureMessage({ id, seq, body: `m${id}`, created_at: 1, ...extra });

let channelLoads = 0;
const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });

beforeEach(() => {
  localStorage.clear();
  FakeSocket.all = [];
  channelLoads = 0;
  vi.stubGlobal('WebSocket', FakeSocket);
  setFetch(async (url) => {
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    if (url === '/api/v1/channels') {
      channelLoads++;
      return json([general]);
    }
    if (url === '/api/v1/people') return json([{ id: 2, username: 'bob', display_name: 'Bob', presence: 'online' }]);
    if (url.startsWith('/api/v1/channels/4/messages')) return json([message(10, 1), message(11, 2)]);
    return new Response('{}', { status: 404 });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

async function connected(client: ChatClient, position = 100) {
  const ws = FakeSocket.last();
  ws.open();
  ws.receive({ type: 'ready', v: 1, position, replayed: 0, resync: false, user_id: 1 });
  await settle(() => expect(client.state.ready).toBe(true));
  return ws;
}

describe('ChatClient', () => {
  it('queues while offline, sends with the client id, and shows the message once', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    client.setCurrent(4);
    const item = client.send(4, 'hello');
    expect(client.state.outbox.map((i) => i.state)).toEqual(['pending']);
    expect(JSON.parse(localStorage.getItem('outpost.outbox.1')!)[0].body).toBe('hello');

    const ws = await connected(client);
    await settle(() => expect(client.state.histories.get(4)?.items).toHaveLength(2));
    const sendFrame = ws.sent.find((f) => f.type === 'send')!;
    expect(sendFrame).toMatchObject({ channel_id: 4, body: 'hello', client_id: item.client_id });
    expect(client.state.outbox[0]!.state).toBe('sending');

    const stored = message(12, 3, { author_id: 1, client_id: item.client_id, body: 'hello' });
    ws.receive({ type: 'ack', req: sendFrame.req, message: stored });
    ws.receive({ type: 'event', pos: 101, event: { kind: 'message.new', message: stored } });
    expect(client.state.outbox).toHaveLength(0);
    expect(localStorage.getItem('outpost.outbox.1')).toBeNull();
    expect(client.state.histories.get(4)!.items.map((m) => m.id)).toEqual([10, 11, 12]);
    expect(client.state.channels.get(4)).toMatchObject({ last_seq: 3, unread: 0 });
    client.stop();
  });

  it('resends in-flight messages after a reconnect with the same client id', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
      client.start();
      const ws = await connected(client);
      const item = client.send(4, 'again');
      expect(ws.sent.filter((f) => f.type === 'send')).toHaveLength(1);
      ws.close(1012);
      expect(client.state.connection).toBe('reconnecting');
      expect(client.state.outbox[0]!.state).toBe('pending');
      await vi.advanceTimersByTimeAsync(2000);
      const ws2 = FakeSocket.last();
      expect(ws2).not.toBe(ws);
      expect(ws2.url).toBe('wss://h/api/v1/ws?resume_from=100');
      ws2.open();
      ws2.receive({ type: 'ready', v: 1, position: 100, replayed: 0, resync: false });
      const resent = ws2.sent.filter((f) => f.type === 'send');
      expect(resent).toHaveLength(1);
      expect(resent[0]!.client_id).toBe(item.client_id);
      client.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('persists the event position and resumes from it after a reload', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    const ws = await connected(client, 100);
    ws.receive({ type: 'event', pos: 105, event: { kind: 'read', channel_id: 4, seq: 2 } });
    client.stop();
    const reloaded = new ChatClient(me, () => 'wss://h/api/v1/ws');
    reloaded.start();
    expect(FakeSocket.last().url).toBe('wss://h/api/v1/ws?resume_from=105');
    reloaded.stop();
  });

  it('reloads the people list once for an account it does not know yet (a new bot)', async () => {
    let peopleLoads = 0;
    setFetch(async (url) => {
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url === '/api/v1/channels') return json([general]);
      if (url === '/api/v1/people') {
        peopleLoads++;
        const bob = { id: 2, username: 'bob', display_name: 'Bob', presence: 'online' };
        const bot = { id: 5, username: 'backup-bot', display_name: 'Backups', presence: 'online', is_bot: true };
        return json(peopleLoads === 1 ? [bob] : [bob, bot]);
      }
      return new Response('{}', { status: 404 });
    });
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    const ws = await connected(client);
    expect(peopleLoads).toBe(1);
    ws.receive({ type: 'event', pos: 101, event: { kind: 'message.new', message: message(20, 3) } });
    ws.receive({ type: 'event', pos: 102, event: { kind: 'message.new', message: message(21, 4, { author_id: 1 }) } });
    // Webhook posts have no author to look up.
    ws.receive({
      type: 'event',
      pos: 103,
      event: { kind: 'message.new', message: message(22, 5, { author_id: null, sender_name: 'Zabbix', webhook_id: 3 }) },
    });
    await new Promise((r) => setTimeout(r, 250));
    expect(peopleLoads).toBe(1);
    ws.receive({ type: 'event', pos: 104, event: { kind: 'message.new', message: message(23, 6, { author_id: 5 }) } });
    ws.receive({ type: 'event', pos: 105, event: { kind: 'message.new', message: message(24, 7, { author_id: 5 }) } });
    await settle(() => expect(client.state.people.get(5)?.is_bot).toBe(true));
    expect(peopleLoads).toBe(2);
    client.stop();
  });

  it('counts unread messages and mentions, and read events from other devices clear them', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    const ws = await connected(client);
    ws.receive({ type: 'event', pos: 101, event: { kind: 'message.new', message: message(20, 3) } });
    ws.receive({ type: 'event', pos: 102, event: { kind: 'message.new', message: message(21, 4, { body: 'hi @alice' }) } });
    // A replay of the same event changes nothing.
    ws.receive({ type: 'event', pos: 102, event: { kind: 'message.new', message: message(21, 4, { body: 'hi @alice' }) } });
    expect(client.state.channels.get(4)).toMatchObject({ unread: 2, mentions: 1, last_seq: 4 });
    ws.receive({ type: 'event', pos: 103, event: { kind: 'read', channel_id: 4, seq: 4 } });
    expect(client.state.channels.get(4)).toMatchObject({ unread: 0, mentions: 0, last_read_seq: 4 });
    client.stop();
  });

  it('reloads the channel list and history on resync', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    const ws = await connected(client);
    expect(channelLoads).toBe(1);
    ws.receive({ type: 'ready', v: 1, position: 500, replayed: 0, resync: true });
    await settle(() => expect(client.state.epoch).toBe(1));
    expect(channelLoads).toBe(2);
    client.stop();
  });

  it('marks a message failed when the server refuses it for good, and retries on request', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    const ws = await connected(client);
    const item = client.send(4, 'too late');
    const frame = ws.sent.find((f) => f.type === 'send')!;
    ws.receive({ type: 'error', req: frame.req, code: 'archived', message: 'the channel is archived' });
    // The code, not the English sentence: it is translated when shown.
    await settle(() =>
      expect(client.state.outbox[0]).toMatchObject({ client_id: item.client_id, state: 'failed', error: 'archived' }),
    );
    client.retrySend(item.client_id);
    expect(ws.sent.filter((f) => f.type === 'send')).toHaveLength(2);
    expect(client.state.outbox[0]!.state).toBe('sending');
    expect(client.state.outbox[0]).not.toHaveProperty('error');
    client.stop();
  });

  it('keeps the field and params of a refused message, to say why in the current language', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    const ws = await connected(client);
    const item = client.send(4, 'x'.repeat(20));
    const frame = ws.sent.find((f) => f.type === 'send')!;
    ws.receive({
      type: 'error',
      req: frame.req,
      code: 'too-long',
      message: 'a message is at most 10 characters',
      field: 'body',
      params: { max: 10 },
    });
    await settle(() =>
      expect(client.state.outbox[0]).toMatchObject({
        client_id: item.client_id,
        state: 'failed',
        error: 'too-long',
        error_field: 'body',
        error_params: { max: 10 },
      }),
    );
    client.stop();
  });

  it('watches the presence of the people on screen', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    client.setCurrent(4);
    const ws = await connected(client);
    await settle(() => expect(client.state.histories.get(4)?.items).toHaveLength(2));
    await settle(() => expect(ws.sent.filter((f) => f.type === 'presence_sub').at(-1)).toEqual({ type: 'presence_sub', user_ids: [2] }));
    ws.receive({ type: 'presence_state', users: [{ user_id: 2, status: 'away' }] });
    expect(client.state.people.get(2)?.presence).toBe('away');
    ws.receive({ type: 'presence', user_id: 2, status: 'online' });
    expect(client.state.people.get(2)?.presence).toBe('online');
    client.stop();
  });

  it('goes to sign-in when the session ends (close code 4001)', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    const signedOut = vi.fn();
    client.onSignedOut = signedOut;
    client.start();
    const ws = await connected(client);
    ws.close(4001);
    expect(signedOut).toHaveBeenCalledOnce();
  });
});

describe('ChatClient: messages of channels shared with linked sites', () => {
  it('puts a late message where it sorts, and leaves out one that sorts before a window with older pages', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    const ws = await connected(client);
    const keyed = (id: number, seq: number, sort_key: number, extra: Partial<Message> = {}) => message(id, seq, { sort_key, ...extra });
    const loaded = [keyed(20, 5, 500), keyed(21, 6, 600), keyed(22, 7, 700)];
    client.store.set({
      histories: new Map([[4, { items: loaded, hasOlder: true, hasNewer: false, loading: null, error: null }]]),
    });
    const ids = () => client.state.histories.get(4)!.items.map((m) => m.id);
    // Arrived late from a linked site (the newest seq), sorting between two shown messages.
    ws.receive({ type: 'event', pos: 101, event: { kind: 'message.new', message: keyed(23, 8, 650, { late: true }) } });
    expect(ids()).toEqual([20, 21, 23, 22]);
    // Sorting before the first shown message, with older pages not loaded: it comes with them.
    ws.receive({ type: 'event', pos: 102, event: { kind: 'message.new', message: keyed(24, 9, 100, { late: true }) } });
    expect(ids()).toEqual([20, 21, 23, 22]);
    // A new message at the end.
    ws.receive({ type: 'event', pos: 103, event: { kind: 'message.new', message: keyed(25, 10, 800) } });
    expect(ids()).toEqual([20, 21, 23, 22, 25]);
    client.stop();
  });
});

describe('ChatClient: the saved copy gives way to the server', () => {
  /** Message pages wait for the test to answer them, in any order. */
  function heldPages() {
    const pages: { answer: (items: Message[]) => void }[] = [];
    setFetch(async (url) => {
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url === '/api/v1/channels') return json([general]);
      if (url === '/api/v1/people') return json([{ id: 2, username: 'bob', display_name: 'Bob', presence: 'online' }]);
      if (url.startsWith('/api/v1/channels/4/messages')) {
        return new Promise<Response>((resolve) => pages.push({ answer: (items) => resolve(json(items)) }));
      }
      return new Response('{}', { status: 404 });
    });
    return pages;
  }

  function openedOffline(saved: () => Promise<Message[] | null> = async () => [message(10, 1), message(11, 2)]) {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.savedHistory = saved;
    client.seed({ channels: [general], people: [], preferences: null });
    client.start();
    client.setCurrent(4);
    return client;
  }

  const ids = (client: ChatClient) => client.state.histories.get(4)?.items.map((m) => m.id);

  it('shows a queued message acknowledged while the server’s page is loading, though the server read that page before storing it', async () => {
    const pages = heldPages();
    const client = openedOffline();
    await client.loadLatest(4);
    expect(ids(client)).toEqual([10, 11]);
    const item = client.send(4, 'heron');

    // The server is back: the saved history gives way to the server's page, and the queued message goes.
    const ws = FakeSocket.last();
    ws.open();
    ws.receive({ type: 'ready', v: 1, position: 100, replayed: 0, resync: false, user_id: 1 });
    await settle(() => expect(pages).toHaveLength(1));
    const sendFrame = ws.sent.find((f) => f.type === 'send')!;
    expect(sendFrame).toMatchObject({ body: 'heron', client_id: item.client_id });
    expect(client.state.histories.get(4)?.loading).toBe('initial');

    const stored = message(12, 3, { author_id: 1, client_id: item.client_id, body: 'heron' });
    ws.receive({ type: 'ack', req: sendFrame.req, message: stored });
    ws.receive({ type: 'event', pos: 101, event: { kind: 'message.new', message: stored } });
    await settle(() => expect(client.state.outbox).toHaveLength(0));
    // The page was read before the message was stored.
    pages[0]!.answer([message(10, 1), message(11, 2)]);
    await settle(() => expect(client.state.histories.get(4)?.loading).toBeNull());
    expect(ids(client)).toEqual([10, 11, 12]);
    expect(client.state.cached).toBe(false);
    client.stop();
  });

  it('applies only the latest load of a history: an earlier request answering late does not bring back its older page', async () => {
    const pages = heldPages();
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    await connected(client);
    const first = client.loadLatest(4);
    const second = client.loadLatest(4);
    await settle(() => expect(pages).toHaveLength(2));
    pages[1]!.answer([message(10, 1), message(11, 2), message(12, 3)]);
    await second;
    expect(ids(client)).toEqual([10, 11, 12]);
    pages[0]!.answer([message(10, 1), message(11, 2)]);
    await first;
    expect(ids(client)).toEqual([10, 11, 12]);
    client.stop();
  });

  it('does not show the saved copy once the server answered while it was being read', async () => {
    const pages = heldPages();
    let readSaved: (items: Message[]) => void = () => {};
    const client = openedOffline(() => new Promise((resolve) => (readSaved = resolve)));
    const loading = client.loadLatest(4);
    const ws = FakeSocket.last();
    ws.open();
    ws.receive({ type: 'ready', v: 1, position: 100, replayed: 0, resync: false, user_id: 1 });
    await settle(() => expect(client.state.cached).toBe(false));
    readSaved([message(10, 1)]);
    await settle(() => expect(pages).toHaveLength(1));
    pages[0]!.answer([message(10, 1), message(11, 2)]);
    await loading;
    expect(ids(client)).toEqual([10, 11]);
    expect(client.state.cached).toBe(false);
    client.stop();
  });
});

describe('ChatClient with attachments', () => {
  const file = fixtureFile('f1', {
    name: 'cat.jpg',
    size: 3,
    mime: 'image/jpeg',
    kind: 'image',
    width: 4,
    height: 3,
    thumb_url: '/api/v1/files/f1/thumb',
  });

  it('sends the file ids with the message, and resends them with the same client id after a reconnect', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    const item = client.send(4, '', null, [file]);
    // Durable like any message: the ids (and the files, to show them meanwhile) are in localStorage.
    expect(JSON.parse(localStorage.getItem('outpost.outbox.1')!)[0]).toMatchObject({
      client_id: item.client_id,
      body: '',
      attachments: ['f1'],
      files: [{ id: 'f1', name: 'cat.jpg' }],
    });
    const ws = await connected(client);
    const first = ws.sent.find((f) => f.type === 'send')!;
    expect(first).toMatchObject({ channel_id: 4, body: '', client_id: item.client_id, attachments: ['f1'] });
    ws.close(1012);
    await settle(() => expect(FakeSocket.all).toHaveLength(2));
    const ws2 = FakeSocket.last();
    ws2.open();
    ws2.receive({ type: 'ready', v: 1, position: 100, replayed: 0, resync: false, user_id: 1 });
    await settle(() => expect(ws2.sent.some((f) => f.type === 'send')).toBe(true));
    expect(ws2.sent.find((f) => f.type === 'send')).toMatchObject({ client_id: item.client_id, attachments: ['f1'] });
    client.stop();
  });

  it('sends no attachments field for a text message', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    client.send(4, 'hello');
    const ws = await connected(client);
    expect(ws.sent.find((f) => f.type === 'send')).not.toHaveProperty('attachments');
    client.stop();
  });
});

describe('ChatClient: people, notifications, read receipts', () => {
  class FakeNotification {
    static permission = 'granted';
    static all: FakeNotification[] = [];
    onclick: (() => void) | null = null;
    closed = false;
    constructor(
      readonly title: string,
      readonly options: { body: string; tag: string },
    ) {
      FakeNotification.all.push(this);
    }
    close() {
      this.closed = true;
    }
  }

  let prefs: Preferences;
  let put: { url: string; body: unknown }[];

  beforeEach(() => {
    FakeNotification.all = [];
    vi.stubGlobal('Notification', FakeNotification);
    prefs = { time_zone: '', dnd_until: null, dnd_start: null, dnd_end: null, keywords: ['convoy'], read_receipts: true, language: '' };
    put = [];
    setFetch(async (url, init) => {
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url === '/api/v1/channels') return json([{ ...general, notify: 'mentions', muted_until: null }, { ...general, id: 40, kind: 'dm', name: null, member_ids: [1, 2] }]);
      if (url === '/api/v1/people') return json([{ id: 2, username: 'bob', display_name: 'Bob', presence: 'online' }]);
      if (url === '/api/v1/me/preferences') return json(prefs);
      if (url === '/api/v1/channels/40/receipts') return json([{ user_id: 2, seq: 1, read_at: 1000 }, { user_id: 1, seq: 2, read_at: 1000 }]);
      if (init.method === 'PUT') {
        put.push({ url, body: JSON.parse(init.body as string) });
        return new Response(null, { status: 204 });
      }
      return new Response('{}', { status: 404 });
    });
  });

  const dm = (id: number, seq: number, extra: Partial<Message> = {}) => message(id, seq, { channel_id: 40, ...extra });

  it('takes user.updated frames: new names, photos and statuses, new people, and one’s own', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    const self = vi.fn();
    client.onSelfUpdated = self;
    client.start();
    const ws = await connected(client);
    const status = { emoji: '🤒', text: 'Out sick', expires_at: null };
    ws.receive({
      type: 'user.updated',
      person: { id: 2, username: 'bob', display_name: 'Robert', presence: 'online', photo_url: '/api/v1/users/2/photo?v=9', status, deactivated: false },
    });
    expect(client.state.people.get(2)).toMatchObject({ display_name: 'Robert', photo_url: '/api/v1/users/2/photo?v=9', status });
    ws.receive({ type: 'user.updated', person: { id: 7, username: 'gone', display_name: 'Gone', presence: 'offline', deactivated: true } });
    expect(client.state.people.get(7)?.deactivated).toBe(true);
    expect(self).not.toHaveBeenCalled();
    ws.receive({ type: 'user.updated', person: { id: 1, username: 'alice', display_name: 'Alice L', presence: 'online' } });
    expect(self).toHaveBeenCalledWith(expect.objectContaining({ id: 1, display_name: 'Alice L' }));
    client.stop();
  });

  it('notifies as the conversation and the preferences say; keywords count as mentions', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    const clicked = vi.fn();
    client.onNotificationClick = clicked;
    client.start();
    const ws = await connected(client);
    await settle(() => expect(client.state.preferences?.keywords).toEqual(['convoy']));
    // #general is set to mentions only.
    ws.receive({ type: 'event', pos: 101, event: { kind: 'message.new', message: message(20, 3, { body: 'lunch?' }) } });
    expect(FakeNotification.all).toHaveLength(0);
    ws.receive({ type: 'event', pos: 102, event: { kind: 'message.new', message: message(21, 4, { body: 'The CONVOY is here' }) } });
    expect(FakeNotification.all).toHaveLength(1);
    expect(client.state.channels.get(4)).toMatchObject({ unread: 2, mentions: 1 });
    // Every message in the direct conversation ("all"), not one's own.
    ws.receive({ type: 'event', pos: 103, event: { kind: 'message.new', message: dm(22, 3, { body: 'hi' }) } });
    ws.receive({ type: 'event', pos: 104, event: { kind: 'message.new', message: dm(23, 4, { author_id: 1, body: 'hello' }) } });
    expect(FakeNotification.all).toHaveLength(2);
    // A click shows the message.
    FakeNotification.all[1]!.onclick!();
    expect(clicked).toHaveBeenCalledWith(40, expect.objectContaining({ id: 22, seq: 3 }));
    expect(FakeNotification.all[1]!.closed).toBe(true);

    // Muted: mentions only.
    await client.setNotifications(40, 'all', Date.now() + 3_600_000);
    expect(put.at(-1)).toMatchObject({ url: '/api/v1/channels/40/notifications', body: { notify: 'all' } });
    expect(client.state.channels.get(40)!.muted_until).toBeGreaterThan(Date.now());
    ws.receive({ type: 'event', pos: 105, event: { kind: 'message.new', message: dm(24, 5, { body: 'still there?' }) } });
    expect(FakeNotification.all).toHaveLength(2);
    ws.receive({ type: 'event', pos: 106, event: { kind: 'message.new', message: dm(25, 6, { body: '@alice still there?' }) } });
    expect(FakeNotification.all).toHaveLength(3);

    // Do not disturb: nothing, mentions included; calls ring silently.
    client.setPreferences({ ...prefs, dnd_until: Date.now() + 60_000 });
    ws.receive({ type: 'event', pos: 107, event: { kind: 'message.new', message: dm(26, 7, { body: '@alice!!' }) } });
    expect(FakeNotification.all).toHaveLength(3);
    expect(client.quietFor(40)).toBe(true);
    client.setPreferences({ ...prefs, dnd_until: null });
    expect(client.quietFor(40)).toBe(false);
    client.stop();
  });

  it('keeps read receipts of direct conversations: loaded, then live, never one’s own', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    client.start();
    const ws = await connected(client);
    await client.loadReceipts(40);
    expect(client.state.receipts.get(40)).toEqual([{ user_id: 2, seq: 1, read_at: 1000 }]);
    ws.receive({ type: 'event', pos: 101, event: { kind: 'receipt', channel_id: 40, user_id: 2, seq: 3, read_at: 2000 } });
    ws.receive({ type: 'event', pos: 102, event: { kind: 'receipt', channel_id: 40, user_id: 1, seq: 9, read_at: 2000 } });
    ws.receive({ type: 'event', pos: 103, event: { kind: 'receipt', channel_id: 40, user_id: 2, seq: 2, read_at: 3000 } });
    expect(client.state.receipts.get(40)).toEqual([{ user_id: 2, seq: 3, read_at: 2000 }]);
    client.stop();
  });

  it('applies the language from the preferences once, and again when it changes', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    const languages: string[] = [];
    client.onPreferences = (p) => languages.push(p.language);
    prefs.language = 'ru';
    client.start();
    await connected(client);
    await settle(() => expect(languages).toEqual(['ru']));
    client.setPreferences({ ...prefs, keywords: [] });
    client.setPreferences({ ...prefs, language: 'en' });
    expect(languages).toEqual(['ru', 'en']);
    client.stop();
  });
});
