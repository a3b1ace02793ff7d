import { beforeEach, describe, expect, it } from 'vitest';
import type { Message, Receipt } from '../api';
import { message as fixtureMessage } from '../fixtures.test-util';
import { setLocale } from '../i18n';
import { applyReceipt, seenMessage, seenText } from './receipts';

const message = (id: number, seq: number, author_id: number | null, extra: Partial<Message> = {}) =>
  fixtureMessage({ id, channel_id: 40, seq, author_id, body: `m${id}`, created_at: 0, ...extra });

const ME = 1;
const items = [message(10, 1, ME), message(11, 2, 2), message(12, 3, ME), message(13, 4, ME)];

beforeEach(() => setLocale('en'));

describe('seenMessage', () => {
  it('puts "seen" under one’s own latest message the others have read', () => {
    expect(seenMessage(items, ME, [{ user_id: 2, seq: 4, read_at: 5 }])).toEqual({
      messageId: 13,
      readers: [{ user_id: 2, seq: 4, read_at: 5 }],
    });
    // Read up to seq 3: the message at seq 4 is not seen yet, the one at 3 is.
    expect(seenMessage(items, ME, [{ user_id: 2, seq: 3, read_at: 5 }])?.messageId).toBe(12);
    // Read only their own message: one of mine before it.
    expect(seenMessage(items, ME, [{ user_id: 2, seq: 2, read_at: 5 }])?.messageId).toBe(10);
  });

  it('shows nothing when nobody has read, or only I have', () => {
    expect(seenMessage(items, ME, [])).toBeNull();
    expect(seenMessage(items, ME, [{ user_id: 2, seq: 0, read_at: null }])).toBeNull();
    expect(seenMessage(items, ME, [{ user_id: ME, seq: 4, read_at: 5 }])).toBeNull();
    expect(seenMessage([message(11, 2, 2)], ME, [{ user_id: 2, seq: 2, read_at: 5 }])).toBeNull();
  });

  it('skips deleted messages, thread replies and notices', () => {
    const list = [
      message(10, 1, ME),
      message(12, 2, ME, { deleted: true }),
      message(13, 3, ME, { thread_root: 10 }),
      message(14, 4, null, { kind: 'system' }),
    ];
    expect(seenMessage(list, ME, [{ user_id: 2, seq: 4, read_at: 5 }])?.messageId).toBe(10);
  });

  it('in a group lists everyone who read that far, earliest first', () => {
    const receipts: Receipt[] = [
      { user_id: 3, seq: 4, read_at: 900 },
      { user_id: 2, seq: 4, read_at: 100 },
      { user_id: 4, seq: 3, read_at: 50 },
    ];
    const seen = seenMessage(items, ME, receipts)!;
    expect(seen.messageId).toBe(13);
    expect(seen.readers.map((r) => r.user_id)).toEqual([2, 3]);
  });
});

describe('applyReceipt', () => {
  it('adds and moves receipts forward, never back', () => {
    const one = applyReceipt([], { user_id: 2, seq: 3, read_at: 1 });
    expect(one).toEqual([{ user_id: 2, seq: 3, read_at: 1 }]);
    expect(applyReceipt(one, { user_id: 2, seq: 2, read_at: 2 })).toBe(one);
    expect(applyReceipt(one, { user_id: 2, seq: 3, read_at: 2 })).toBe(one);
    expect(applyReceipt(one, { user_id: 2, seq: 5, read_at: 3 })).toEqual([{ user_id: 2, seq: 5, read_at: 3 }]);
    expect(applyReceipt(one, { user_id: 3, seq: 1, read_at: 4 })).toHaveLength(2);
  });
});

describe('seenText', () => {
  const names: Record<number, string> = { 2: 'Bob', 3: 'Carol' };
  const nameOf = (id: number) => names[id] ?? `#${id}`;
  const timeOf = (t: number) => `t${t}`;

  it('says "Seen" in a conversation of two, "Seen by N" in a group, who and when in the title', () => {
    expect(seenText('dm', [{ user_id: 2, seq: 4, read_at: 100 }], nameOf, timeOf)).toEqual({
      label: 'Seen',
      title: 'Bob — t100',
    });
    const readers: Receipt[] = [
      { user_id: 2, seq: 4, read_at: 100 },
      { user_id: 3, seq: 4, read_at: null },
    ];
    expect(seenText('group', readers, nameOf, timeOf)).toEqual({ label: 'Seen by 2', title: 'Bob — t100\nCarol' });
    expect(seenText('group', readers.slice(0, 1), nameOf, timeOf).label).toBe('Seen by 1');
  });

  it('reads in Russian', () => {
    setLocale('ru');
    expect(seenText('dm', [{ user_id: 2, seq: 4, read_at: 100 }], nameOf, timeOf).label).toBe('Просмотрено');
    const three: Receipt[] = [2, 3, 4].map((id) => ({ user_id: id, seq: 4, read_at: 1 }));
    expect(seenText('group', three, nameOf, timeOf).label).toBe('Просмотрели 3');
    expect(seenText('group', three.slice(0, 1), nameOf, timeOf).label).toBe('Просмотрел 1');
    setLocale('en');
  });
});
