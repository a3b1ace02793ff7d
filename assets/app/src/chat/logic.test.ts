import { describe, expect, it } from 'vitest';
import type { Channel, Message, Person } from '../api';
import { channel as fixtureChannel, MemoryStorage, message } from '../fixtures.test-util';
import {
  applyRead,
  attentionCount,
  attentionTotal,
  backoffDelay,
  buildRows,
  channelTitle,
  compareMessages,
  countIncoming,
  GROUP_GAP_MS,
  isWebhookMessage,
  matchPeople,
  mentionQuery,
  mergeMessages,
  parseSearch,
  ResumePosition,
  sameSender,
  snippetHtml,
  snippetParts,
  tabTitle,
} from './logic';

const T0 = new Date(2026, 10, 20, 9, 0, 0).getTime();

const msg = (id: number, author: number, at: number, extra: Partial<Message> = {}) =>
  message({ id, channel_id: 1, seq: id, author_id: author, body: `m${id}`, created_at: at, ...extra });

const channel = (extra: Partial<Channel> = {}) => fixtureChannel({ id: 1, last_seq: 10, last_read_seq: 10, ...extra });

describe('buildRows', () => {
  it('groups by author and time, with day dividers', () => {
    const rows = buildRows(
      [
        msg(1, 1, T0),
        msg(2, 1, T0 + 60_000),
        msg(3, 2, T0 + 120_000),
        msg(4, 2, T0 + 120_000 + GROUP_GAP_MS + 1),
        msg(5, 2, T0 + 86_400_000),
      ],
      null,
      1,
    );
    expect(rows.map((r) => (r.type === 'message' ? `${r.message.id}${r.first ? '*' : ''}` : r.type))).toEqual([
      'day',
      '1*',
      '2',
      '3*',
      '4*',
      'day',
      '5*',
    ]);
  });

  it('puts the new-messages line before the first unread message by someone else', () => {
    const rows = buildRows([msg(1, 2, T0), msg(2, 1, T0 + 1), msg(3, 2, T0 + 2), msg(4, 2, T0 + 3)], 1, 1);
    expect(rows.map((r) => (r.type === 'message' ? r.message.id : r.type))).toEqual(['day', 1, 2, 'unread', 3, 4]);
    const after = rows[rows.findIndex((r) => r.type === 'unread') + 1]!;
    expect(after.type === 'message' && after.first).toBe(true);
  });

  it('starts a new group after a system message', () => {
    const rows = buildRows([msg(1, 1, T0, { kind: 'system' }), msg(2, 1, T0 + 1)], null, 1);
    expect(rows.filter((r) => r.type === 'message').map((r) => r.type === 'message' && r.first)).toEqual([true, true]);
  });

  it('handles 10,000 messages quickly', () => {
    const list = Array.from({ length: 10_000 }, (_, i) => msg(i + 1, (i % 7) + 1, T0 + i * 30_000));
    const start = performance.now();
    const rows = buildRows(list, 5000, 1);
    expect(rows.length).toBeGreaterThan(10_000);
    expect(performance.now() - start).toBeLessThan(500);
  });
});

describe('mergeMessages', () => {
  it('appends, replaces by id and keeps seq order', () => {
    const a = [msg(1, 1, T0), msg(3, 1, T0)];
    expect(mergeMessages(a, [msg(4, 1, T0)]).map((m) => m.id)).toEqual([1, 3, 4]);
    expect(mergeMessages(a, [msg(2, 1, T0)]).map((m) => m.id)).toEqual([1, 2, 3]);
    const edited = mergeMessages(a, [msg(3, 1, T0, { body: 'new' })]);
    expect(edited.map((m) => m.body)).toEqual(['m1', 'new']);
    expect(mergeMessages(a, [msg(3, 1, T0), msg(3, 1, T0)])).toHaveLength(2);
  });

  it('orders by the sort key linked sites agree on, then seq; a late message goes where it belongs', () => {
    // seq is the order of arrival here; sort_key the order of every site.
    const a = [msg(1, 1, T0, { sort_key: 100 }), msg(2, 2, T0, { sort_key: 200 }), msg(3, 1, T0, { sort_key: 300 })];
    const late = msg(4, 3, T0, { sort_key: 150, late: true });
    expect(mergeMessages(a, [late]).map((m) => m.id)).toEqual([1, 4, 2, 3]);
    // Appending stays in order too, and a page that arrives out of order is sorted.
    expect(mergeMessages(a, [msg(6, 1, T0, { sort_key: 500 }), msg(5, 1, T0, { sort_key: 400 })]).map((m) => m.id)).toEqual([
      1, 2, 3, 5, 6,
    ]);
    // The same sort key (two sites at the same instant): seq decides.
    expect(mergeMessages(a, [msg(7, 2, T0, { sort_key: 200 })]).map((m) => m.id)).toEqual([1, 2, 7, 3]);
    // A replaced message keeps its place.
    expect(mergeMessages([...a, late], [{ ...late, body: 'edited' }]).map((m) => `${m.id}${m.body}`)).toEqual([
      '1m1',
      '4edited',
      '2m2',
      '3m3',
    ]);
  });

  it('keeps seq order for messages without a sort key (older servers, saved copies)', () => {
    expect(compareMessages({ seq: 1 }, { seq: 2 })).toBeLessThan(0);
    expect(compareMessages({ seq: 2, sort_key: 1 }, { seq: 1 })).toBeGreaterThan(0);
    expect(compareMessages({ seq: 2, sort_key: 1 }, { seq: 1, sort_key: 5 })).toBeLessThan(0);
    expect(compareMessages({ seq: 3, sort_key: 5 }, { seq: 3, sort_key: 5 })).toBe(0);
    const a = [msg(1, 1, T0), msg(3, 1, T0)];
    expect(mergeMessages(a, [msg(2, 1, T0)]).map((m) => m.id)).toEqual([1, 2, 3]);
  });
});

describe('rows with linked sites', () => {
  it('starts a group with a message that arrived late, so its sender and mark show', () => {
    const rows = buildRows([msg(1, 2, T0), msg(2, 2, T0 + 1000, { late: true }), msg(3, 2, T0 + 2000)], null, 1);
    expect(rows.filter((r) => r.type === 'message').map((r) => r.type === 'message' && r.first)).toEqual([true, true, false]);
  });

  it('gives a day that comes back (another site’s clock) a divider of its own, with its own key', () => {
    const rows = buildRows([msg(1, 2, T0), msg(2, 2, T0 + 86_400_000), msg(3, 2, T0 + 60_000)], null, 1);
    const days = rows.filter((r) => r.type === 'day').map((r) => r.key);
    expect(days).toHaveLength(3);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });
});

describe('unread counts and the tab title', () => {
  it('counts new messages from others once (idempotent for replays)', () => {
    let c = channel();
    c = countIncoming(c, { seq: 11, author_id: 2, thread_root: null }, 1, false);
    c = countIncoming(c, { seq: 12, author_id: 2, thread_root: null }, 1, true);
    expect(c).toMatchObject({ last_seq: 12, unread: 2, mentions: 1 });
    expect(countIncoming(c, { seq: 12, author_id: 2, thread_root: null }, 1, true)).toBe(c);
    expect(countIncoming(c, { seq: 11, author_id: 2, thread_root: null }, 1, true)).toBe(c);
  });

  it('counts thread replies as mentions only (like the server)', () => {
    const c = countIncoming(channel(), { seq: 11, author_id: 2, thread_root: 5 }, 1, true);
    expect(c).toMatchObject({ last_seq: 11, unread: 0, mentions: 1 });
    expect(countIncoming(channel(), { seq: 11, author_id: 2, thread_root: 5 }, 1, false)).toMatchObject({ last_seq: 11, unread: 0, mentions: 0 });
  });

  it('treats your own message as read', () => {
    const c = countIncoming(channel({ unread: 3, mentions: 1, last_seq: 12, last_read_seq: 9 }), { seq: 13, author_id: 1, thread_root: null }, 1, false);
    expect(c).toMatchObject({ unread: 0, mentions: 0, last_read_seq: 13 });
  });

  it('applies read positions forward only', () => {
    const c = channel({ last_seq: 20, last_read_seq: 10, unread: 4, mentions: 2 });
    expect(applyRead(c, 5)).toBe(c);
    expect(applyRead(c, 15)).toMatchObject({ last_read_seq: 15, unread: 4 });
    expect(applyRead(c, 20)).toMatchObject({ last_read_seq: 20, unread: 0, mentions: 0 });
  });

  it('titles the tab with mentions and direct messages', () => {
    expect(tabTitle([], 'general')).toBe('general · Outpost');
    expect(tabTitle([], '')).toBe('Outpost');
    expect(tabTitle([channel({ unread: 3 })], '#general')).toBe('• #general · Outpost');
    expect(
      tabTitle([channel({ unread: 3, mentions: 1 }), channel({ kind: 'dm', unread: 2 }), channel({ kind: 'group', unread: 1 })], '#general'),
    ).toBe('(4) #general · Outpost');
  });

  it('leaves muted conversations out of the count unless they mention me', () => {
    const now = 1_000_000;
    const muted = { muted_until: now + 1 };
    expect(attentionCount(channel({ kind: 'dm', unread: 2, ...muted }), now)).toBe(0);
    expect(attentionCount(channel({ kind: 'dm', unread: 2, mentions: 1, ...muted }), now)).toBe(1);
    // The mute has ended.
    expect(attentionCount(channel({ kind: 'dm', unread: 2, muted_until: now }), now)).toBe(2);
    expect(tabTitle([channel({ unread: 3, ...muted }), channel({ kind: 'dm', unread: 2, ...muted })], 'x', 'Outpost', now)).toBe(
      'x · Outpost',
    );
    expect(tabTitle([channel({ unread: 3, mentions: 1, ...muted }), channel({ kind: 'dm', unread: 2 })], 'x', 'Outpost', now)).toBe(
      '(3) x · Outpost',
    );
    expect(attentionTotal([channel({ unread: 3, mentions: 1, ...muted }), channel({ kind: 'dm', unread: 2 })], now)).toBe(3);
  });
});

describe('channelTitle', () => {
  const people = new Map<number, Person>([
    [1, { id: 1, username: 'me', display_name: 'Me', presence: 'online' }],
    [2, { id: 2, username: 'bob', display_name: '', presence: 'online' }],
    [3, { id: 3, username: 'carol', display_name: 'Carol C', presence: 'away' }],
  ]);
  it('names channels and direct conversations', () => {
    expect(channelTitle(channel(), 1, people)).toBe('general');
    expect(channelTitle(channel({ kind: 'dm', name: null, member_ids: [1, 2] }), 1, people)).toBe('bob');
    expect(channelTitle(channel({ kind: 'group', name: null, member_ids: [1, 2, 3] }), 1, people)).toBe('bob, Carol C');
    expect(channelTitle(channel({ kind: 'dm', name: null, member_ids: [1] }), 1, people)).toBe('Me');
  });
});

describe('search snippets', () => {
  it('splits highlighted parts', () => {
    expect(snippetParts('a \uE000b\uE001 c \uE000d\uE001')).toEqual([
      { text: 'a ', mark: false },
      { text: 'b', mark: true },
      { text: ' c ', mark: false },
      { text: 'd', mark: true },
    ]);
  });

  it('escapes the text before turning markers into <mark>', () => {
    expect(snippetHtml('<img src=x> \uE000<b>&"\'\uE001')).toBe(
      '&lt;img src=x&gt; <mark>&lt;b&gt;&amp;&quot;&#39;</mark>',
    );
  });
});

describe('ResumePosition', () => {
  it('persists the newest position and builds the resume URL', () => {
    const store = new MemoryStorage();
    const p = new ResumePosition(store, 'pos');
    expect(p.get()).toBeNull();
    expect(p.url('wss://h/api/v1/ws')).toBe('wss://h/api/v1/ws');
    p.advance(10);
    p.advance(7);
    expect(p.get()).toBe(10);
    expect(new ResumePosition(store, 'pos').url('wss://h/api/v1/ws')).toBe('wss://h/api/v1/ws?resume_from=10');
    p.set(3); // the server's position after a resync wins
    expect(store.getItem('pos')).toBe('3');
    p.clear();
    expect(new ResumePosition(store, 'pos').get()).toBeNull();
  });

  it('ignores garbage in storage', () => {
    const store = new MemoryStorage();
    store.setItem('pos', 'abc');
    expect(new ResumePosition(store, 'pos').get()).toBeNull();
    store.setItem('pos', '-5');
    expect(new ResumePosition(store, 'pos').get()).toBeNull();
  });
});

describe('helpers', () => {
  it('backs off exponentially with a cap', () => {
    expect(backoffDelay(0, () => 0.5)).toBe(500);
    expect(backoffDelay(3, () => 0.5)).toBe(4000);
    expect(backoffDelay(20, () => 0.5)).toBe(30_000);
    expect(backoffDelay(1, () => 0)).toBe(800);
  });

  it('finds the @word before the caret', () => {
    expect(mentionQuery('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('mail a@b', 8)).toBeNull();
    expect(mentionQuery('hi @bob there', 13)).toBeNull();
  });

  it('matches people by name prefix first', () => {
    const people = [
      { id: 1, username: 'alice', display_name: 'Alice Liddell', presence: 'online' as const },
      { id: 2, username: 'malic', display_name: 'Mal', presence: 'online' as const },
      { id: 3, username: 'bob', display_name: 'Bob Lid', presence: 'online' as const },
    ];
    expect(matchPeople(people, 'ali').map((p) => p.id)).toEqual([1, 2]);
    expect(matchPeople(people, 'lid').map((p) => p.id)).toEqual([1, 3]);
  });
});


describe('parseSearch', () => {
  const channels = [
    { id: 4, kind: 'public' as const, name: 'general', member_ids: [] },
    { id: 9, kind: 'dm' as const, name: null, member_ids: [1, 2] },
  ];
  const people = [
    { id: 1, username: 'me' },
    { id: 2, username: 'bob' },
  ];
  it('turns filters into search parameters', () => {
    const r = parseSearch('launch in:#general from:@bob code', channels, people, 1);
    expect(r).toMatchObject({ q: 'launch code', channel_id: 4, author_id: 2, unknown: [] });
    expect(parseSearch('x in:@bob', channels, people, 1).channel_id).toBe(9);
  });

  it('understands dates as local days', () => {
    const r = parseSearch('x after:2026-01-30 before:2026-02-02', channels, people, 1);
    expect(r.from).toBe(new Date(2026, 0, 31).getTime());
    expect(r.to).toBe(new Date(2026, 1, 2).getTime());
    const on = parseSearch('x on:2026-03-01', channels, people, 1);
    expect([on.from, on.to]).toEqual([new Date(2026, 2, 1).getTime(), new Date(2026, 2, 2).getTime()]);
  });

  it('reports filters that match nothing', () => {
    expect(parseSearch('x in:#nope from:@ghost on:yesterday', channels, people, 1).unknown).toEqual([
      'in:#nope',
      'from:@ghost',
      'on:yesterday',
    ]);
  });
});

describe('webhook posts', () => {
  const hook = (id: number, at: number, sender: string, webhook = 3) =>
    msg(id, 0, at, { author_id: null, sender_name: sender, webhook_id: webhook });

  it('are the messages with a sender name and no author', () => {
    expect(isWebhookMessage(hook(1, T0, 'Zabbix'))).toBe(true);
    expect(isWebhookMessage(msg(1, 2, T0))).toBe(false);
    // A system notice has no author and no sender name either.
    expect(isWebhookMessage(msg(1, 0, T0, { author_id: null, kind: 'system' }))).toBe(false);
  });

  it('group by webhook and sender name, never with people', () => {
    expect(sameSender(hook(1, T0, 'Zabbix'), hook(2, T0, 'Zabbix'))).toBe(true);
    expect(sameSender(hook(1, T0, 'Zabbix'), hook(2, T0, 'Backups'))).toBe(false);
    expect(sameSender(hook(1, T0, 'Zabbix', 3), hook(2, T0, 'Zabbix', 4))).toBe(false);
    expect(sameSender(msg(1, 2, T0), msg(2, 2, T0))).toBe(true);
    expect(sameSender(msg(1, 2, T0), hook(2, T0, 'Zabbix'))).toBe(false);
    const rows = buildRows(
      [hook(1, T0, 'Zabbix'), hook(2, T0 + 1000, 'Zabbix'), hook(3, T0 + 2000, 'Backups'), msg(4, 2, T0 + 3000)],
      null,
      2,
    ).filter((r) => r.type === 'message');
    expect(rows.map((r) => r.type === 'message' && r.first)).toEqual([true, false, true, true]);
  });
});
