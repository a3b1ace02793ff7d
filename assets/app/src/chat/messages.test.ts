import { beforeEach, describe, expect, it } from 'vitest';
import type { Channel, Message } from '../api';
import { channel as fixtureChannel, message as fixtureMessage, person as fixturePerson } from '../fixtures.test-util';
import { setLocale } from '../i18n';
import { forwardTargets, messageLink, parseMessageLink, quoteOf, quotePreviewText, refreshQuotes } from './messages';

const message = (id: number, extra: Partial<Message> = {}) =>
  fixtureMessage({ id, seq: id, body: `m${id}`, created_at: 1, ...extra });

beforeEach(() => setLocale('en'));

describe('quote preview', () => {
  it('flattens Markdown and line breaks to one line', () => {
    expect(quotePreviewText({ excerpt: '**Convoy** leaves at\n`06:00`', deleted: false, has_files: false })).toBe(
      'Convoy leaves at 06:00',
    );
  });

  it('cuts long text with an ellipsis', () => {
    const q = { excerpt: 'word '.repeat(60), deleted: false, has_files: false };
    const text = quotePreviewText(q, 20);
    expect(text.endsWith('…')).toBe(true);
    expect([...text].length).toBeLessThanOrEqual(21);
  });

  it('says when the quoted message was deleted or only has files', () => {
    expect(quotePreviewText({ excerpt: '', deleted: true, has_files: false })).toBe('Deleted message');
    expect(quotePreviewText({ excerpt: '', deleted: false, has_files: true })).toBe('📎 Attachment');
    setLocale('ru');
    expect(quotePreviewText({ excerpt: '', deleted: true, has_files: false })).toBe('Удалённое сообщение');
  });

  it('quotes a message as the server would', () => {
    const files = [{ id: 'f' } as never];
    expect(quoteOf(message(7, { body: 'x'.repeat(300), files, sender_name: 'CI' }))).toEqual({
      id: 7,
      author_id: 2,
      sender_name: 'CI',
      excerpt: 'x'.repeat(200),
      deleted: false,
      has_files: true,
    });
    expect(quoteOf(message(7, { deleted: true, body: '' })).excerpt).toBe('');
  });

  it('shows a deleted message as deleted wherever it is quoted, an edited one with its new text', () => {
    const original = message(1, { body: 'the plan' });
    const reply = message(2, { quote: quoteOf(original) });
    const other = message(3);
    const items = [original, reply, other];
    expect(refreshQuotes(items, other)).toBe(items);
    const edited = refreshQuotes(items, { ...original, body: 'the new plan', edited: true });
    expect(edited[1]!.quote!.excerpt).toBe('the new plan');
    const deleted = refreshQuotes(items, { ...original, deleted: true, body: '' });
    expect(deleted[1]!.quote).toMatchObject({ id: 1, deleted: true, excerpt: '' });
    expect(deleted[2]).toBe(other);
  });
});

describe('message links', () => {
  const origin = 'https://outpost.lan:8443';

  it('links to a message in its channel, and to a thread reply with its thread', () => {
    expect(messageLink(origin, { channel_id: 4, seq: 17, thread_root: null })).toBe(`${origin}/c/4?m=17`);
    expect(messageLink(`${origin}/`, { channel_id: 4, seq: 18, thread_root: 17 })).toBe(`${origin}/c/4?m=18&t=17`);
    // A reply also sent to the channel is found there.
    expect(messageLink(origin, { channel_id: 4, seq: 19, thread_root: 17, also_in_channel: true })).toBe(`${origin}/c/4?m=19`);
  });

  it('parses links of this server, absolute or as paths', () => {
    expect(parseMessageLink(`${origin}/c/4?m=17`, origin)).toEqual({ channelId: 4, seq: 17, thread: null });
    expect(parseMessageLink('/c/4?m=18&t=17', origin)).toEqual({ channelId: 4, seq: 18, thread: 17 });
    expect(parseMessageLink(`${origin}/c/4/?t=x&m=2`, origin)).toEqual({ channelId: 4, seq: 2, thread: null });
  });

  it('refuses other sites and anything that is not a message link', () => {
    expect(parseMessageLink('https://evil.example/c/4?m=17', origin)).toBeNull();
    expect(parseMessageLink('http://outpost.lan:8443/c/4?m=17', origin)).toBeNull();
    expect(parseMessageLink(`${origin}/c/4`, origin)).toBeNull();
    expect(parseMessageLink(`${origin}/c/0?m=1`, origin)).toBeNull();
    expect(parseMessageLink(`${origin}/c/abc?m=1`, origin)).toBeNull();
    expect(parseMessageLink(`${origin}/c/4?m=-1`, origin)).toBeNull();
    expect(parseMessageLink(`${origin}/people?m=1`, origin)).toBeNull();
    expect(parseMessageLink('javascript:alert(1)', origin)).toBeNull();
    expect(parseMessageLink('http://[', origin)).toBeNull();
  });
});

describe('forwardTargets', () => {
  const channel = (id: number, extra: Partial<Channel>) => fixtureChannel({ id, name: null, ...extra });
  const person = (id: number, username: string, display_name: string) => fixturePerson({ id, username, display_name });
  const people = new Map([
    [1, person(1, 'me', 'Me')],
    [2, person(2, 'bob', 'Борис Ёлкин')],
    [3, person(3, 'carol', 'Carol')],
  ]);
  const channels = [
    channel(10, { name: 'general' }),
    channel(11, { name: 'ops', kind: 'private' }),
    channel(12, { name: 'old-news', archived: true }),
    channel(13, { kind: 'dm', member_ids: [1, 2] }),
    channel(14, { kind: 'group', member_ids: [1, 2, 3] }),
    channel(15, { name: 'bob-support' }),
  ];

  it('lists every conversation one is in but archived ones: channels first, by name', () => {
    expect(forwardTargets(channels, '', 1, people).map((t) => t.label)).toEqual([
      '#bob-support',
      '#general',
      '#ops',
      'Борис Ёлкин',
      'Борис Ёлкин, Carol',
    ]);
  });

  it('finds by name or a member’s user name, any case, ё = е, names starting with the query first', () => {
    expect(forwardTargets(channels, 'GEN', 1, people).map((t) => t.channel.id)).toEqual([10]);
    expect(forwardTargets(channels, '#ops', 1, people).map((t) => t.channel.id)).toEqual([11]);
    expect(forwardTargets(channels, 'елкин', 1, people).map((t) => t.channel.id)).toEqual([13, 14]);
    // "bob" starts the channel's name; the direct conversations match their member's user name.
    expect(forwardTargets(channels, 'bob', 1, people).map((t) => t.channel.id)).toEqual([15, 13, 14]);
    expect(forwardTargets(channels, 'nothing here', 1, people)).toEqual([]);
  });
});

describe('opening a message link', () => {
  it('routes to the channel with the message, and the thread of a reply', async () => {
    const { parseRoute } = await import('../router');
    expect(parseRoute('/c/4', '?m=17')).toEqual({ name: 'channel', id: 4, seq: 17 });
    expect(parseRoute('/c/4', '?m=18&t=17')).toEqual({ name: 'channel', id: 4, seq: 18, thread: 17 });
    // A thread without a message, or a bad one, is ignored.
    expect(parseRoute('/c/4', '?t=17')).toEqual({ name: 'channel', id: 4, seq: null });
    expect(parseRoute('/c/4', '?m=18&t=0')).toEqual({ name: 'channel', id: 4, seq: 18 });
  });
});
