import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type Channel, type FileView, type Message, type Person, type User } from '../api';
import { ChatClient, type History } from './client';
import {
  eraseOfflineData,
  eraseOtherUsers,
  estimateBytes,
  forgetSignedInUser,
  LAST_USER_KEY,
  lastSignedInUser,
  mergeSavedHistory,
  OFFLINE_BUDGET,
  OFFLINE_CONVERSATIONS,
  OFFLINE_MESSAGES,
  OFFLINE_THUMB_BYTES,
  OFFLINE_TOTAL_BYTES,
  OfflineCache,
  offlineDbName,
  planEviction,
  readOfflineSnapshot,
  rememberSignedInUser,
  type OfflineBudget,
} from './offline';

const MiB = 1024 * 1024;

class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

const me: User = { id: 7, username: 'alice', display_name: 'Alice', is_admin: false, disabled: false, created_at: '' };

function person(id: number, name: string): Person {
  return { id, username: name, display_name: name, presence: 'online' };
}

function channel(id: number, extra: Partial<Channel> = {}): Channel {
  return {
    id,
    kind: 'public',
    name: `c${id}`,
    topic: '',
    archived: false,
    last_seq: 0,
    created_at: 0,
    role: 'member',
    last_read_seq: 0,
    unread: 0,
    mentions: 0,
    member_ids: [],
    ...extra,
  };
}

function image(id: string): FileView {
  return {
    id,
    name: `${id}.png`,
    size: 1000,
    mime: 'image/png',
    kind: 'image',
    width: 640,
    height: 480,
    duration_ms: null,
    url: `/api/v1/files/${id}`,
    thumb_url: `/api/v1/files/${id}/thumb`,
    preview_url: null,
    poster_url: null,
  };
}

function message(channelId: number, seq: number, extra: Partial<Message> = {}): Message {
  return {
    id: channelId * 10_000 + seq,
    channel_id: channelId,
    seq,
    author_id: 2,
    client_id: null,
    kind: 'text',
    body: `message ${seq} of ${channelId}`,
    thread_root: null,
    reply_count: 0,
    last_reply_at: null,
    created_at: 1_000_000 + seq * 1000,
    edited_at: null,
    edited: false,
    deleted: false,
    pinned: false,
    reactions: [],
    ...extra,
  };
}

function history(items: Message[], extra: Partial<History> = {}): History {
  return { items, hasOlder: false, hasNewer: false, loading: null, error: null, ...extra };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A thumbnail fetcher that answers `bytes` bytes for any URL, counting the calls. */
function thumbs(bytes = 300) {
  const asked: string[] = [];
  const fetchThumb = async (url: string) => {
    asked.push(url);
    return new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' });
  };
  return { asked, fetchThumb };
}

async function databaseNames(idb: IDBFactory): Promise<string[]> {
  return (await idb.databases()).map((d) => d.name ?? '');
}

let idb: IDBFactory;
let storage: MemoryStorage;

beforeEach(() => {
  idb = new IDBFactory();
  storage = new MemoryStorage();
  vi.stubGlobal('localStorage', storage);
});

afterEach(() => {
  vi.unstubAllGlobals();
  setFetch((input, init) => globalThis.fetch(input, init));
});

describe('the budget', () => {
  it('is 30 conversations of 200 messages in 25 MiB, thumbnails at most 15 MiB of it', () => {
    expect(OFFLINE_CONVERSATIONS).toBe(30);
    expect(OFFLINE_MESSAGES).toBe(200);
    expect(OFFLINE_TOTAL_BYTES).toBe(25 * MiB);
    expect(OFFLINE_THUMB_BYTES).toBe(15 * MiB);
    expect(OFFLINE_BUDGET).toMatchObject({ conversations: 30, messages: 200, totalBytes: 25 * MiB, thumbBytes: 15 * MiB });
  });

  it('estimates two bytes per character of JSON', () => {
    expect(estimateBytes({ a: 'é' })).toBe(JSON.stringify({ a: 'é' }).length * 2);
  });

  it('keeps the most recently active conversations, dropping the others with their thumbnails', () => {
    const conversations = range(1, 33).map((id) => ({ channel_id: id, active_at: id * 10, bytes: 100 }));
    const thumbnails = [
      { file_id: 'old', channel_id: 1, message_at: 5, bytes: 10 },
      { file_id: 'new', channel_id: 33, message_at: 5, bytes: 10 },
    ];
    const plan = planEviction(conversations, thumbnails, 0);
    expect(plan.conversations.sort((a, b) => a - b)).toEqual([1, 2, 3]);
    expect(plan.thumbs).toEqual(['old']);
  });

  it('drops the oldest thumbnails past their share, and ones no kept message shows', () => {
    const budget: OfflineBudget = { conversations: 30, messages: 200, totalBytes: 10_000, thumbBytes: 250, thumbMaxBytes: 200 };
    const conversations = [{ channel_id: 1, active_at: 1, bytes: 100 }];
    const t = (file_id: string, message_at: number, bytes = 100) => ({ file_id, channel_id: 1, message_at, bytes });
    const plan = planEviction(
      conversations,
      [t('a', 30), t('b', 10), t('c', 20), t('huge', 40, 201), t('orphan', 50)],
      0,
      budget,
      new Set(['a', 'b', 'c', 'huge']),
    );
    expect(plan.conversations).toEqual([]);
    expect(plan.thumbs.sort()).toEqual(['b', 'huge', 'orphan']);
  });

  it('over the whole budget, drops the least recently active conversations first', () => {
    const budget: OfflineBudget = { conversations: 30, messages: 200, totalBytes: 1000, thumbBytes: 500, thumbMaxBytes: 500 };
    const conversations = [
      { channel_id: 1, active_at: 300, bytes: 400 },
      { channel_id: 2, active_at: 100, bytes: 300 },
      { channel_id: 3, active_at: 200, bytes: 200 },
    ];
    const thumbnails = [{ file_id: 'x', channel_id: 3, message_at: 1, bytes: 150 }];
    // 100 + 400 + 300 + 200 + 150 = 1150: channel 2 (least recent) goes and 850 remain.
    expect(planEviction(conversations, thumbnails, 100, budget)).toEqual({ conversations: [2], thumbs: [] });
    // With more metadata channel 3 goes as well, with its thumbnail.
    expect(planEviction(conversations, thumbnails, 300, budget)).toEqual({ conversations: [2, 3], thumbs: ['x'] });
  });
});

describe('mergeSavedHistory', () => {
  const saved = range(1, 10).map((s) => message(1, s));

  it('extends the saved messages with an overlapping window, the loaded ones winning', () => {
    const edited = { ...message(1, 9), body: 'edited' };
    const merged = mergeSavedHistory(saved, history([edited, message(1, 10), message(1, 11)], { hasOlder: true }))!;
    expect(merged.map((m) => m.seq)).toEqual(range(1, 11));
    expect(merged.find((m) => m.seq === 9)!.body).toBe('edited');
  });

  it('replaces them after a gap, and keeps only the last `limit`', () => {
    const later = range(50, 60).map((s) => message(1, s));
    expect(mergeSavedHistory(saved, history(later, { hasOlder: true }))!.map((m) => m.seq)).toEqual(range(50, 60));
    expect(mergeSavedHistory(saved, history(later, { hasOlder: true }), 3)!.map((m) => m.seq)).toEqual([58, 59, 60]);
  });

  it('ignores a window into the past and a history still loading', () => {
    expect(mergeSavedHistory(saved, history([message(1, 3)], { hasNewer: true }))).toBeNull();
    expect(mergeSavedHistory(saved, history([], { loading: 'initial' }))).toBeNull();
  });
});

describe('the saved copy', () => {
  it('reads back what was written: the user, the sidebar, the people needed, the last 200 messages, thumbnails', async () => {
    const { asked, fetchThumb } = thumbs(321);
    const cache = new OfflineCache(me.id, { idb, fetchThumb, writeDelayMs: 0 });
    const messages = range(1, 250).map((s) => message(5, s, s === 240 ? { files: [image('f240')] } : {}));
    messages.push(message(5, 251, { author_id: 3, reactions: [{ emoji: '👍', count: 1, user_ids: [4] }] }));
    cache.saveMe(me);
    cache.saveChannels([channel(5, { last_seq: 251 }), channel(6, { kind: 'dm', name: null, member_ids: [7, 8] })]);
    cache.savePeople(new Map([2, 3, 4, 7, 8, 9].map((id) => [id, person(id, `p${id}`)])));
    cache.saveHistory(5, history(messages, { hasOlder: true }));
    await cache.settled();
    rememberSignedInUser(me.id);

    expect(lastSignedInUser()).toBe(7);
    const snapshot = await readOfflineSnapshot(idb);
    expect(snapshot?.me).toEqual(me);
    expect(snapshot?.channels.map((c) => c.id)).toEqual([5, 6]);
    // Authors, who reacted, the direct conversation's members and the user; nobody else, presence unknown.
    expect(snapshot?.people.map((p) => p.id).sort()).toEqual([2, 3, 4, 7, 8]);
    expect(snapshot?.people.every((p) => p.presence === 'offline')).toBe(true);

    // Another page (a reload) reads the same database.
    const again = new OfflineCache(me.id, { idb, fetchThumb, writeDelayMs: 0 });
    const saved = await again.conversation(5);
    expect(saved?.length).toBe(200);
    expect(saved?.[0]!.seq).toBe(52);
    expect(saved?.[199]!.seq).toBe(251);
    expect(await again.conversation(6)).toBeNull();
    expect(asked).toEqual(['/api/v1/files/f240/thumb']);
    const blob = await again.thumbnail('f240');
    expect(blob?.size).toBe(321);
    expect(blob?.type).toBe('image/jpeg');
    expect(await again.usage()).toMatchObject({ thumbs: 321, conversations: 1 });
  });

  it('follows edits and deletions, and drops conversations the channel list no longer has', async () => {
    const cache = new OfflineCache(me.id, { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 });
    cache.saveHistory(5, history([message(5, 1), message(5, 2)]));
    cache.saveHistory(6, history([message(6, 1)]));
    await cache.settled();
    cache.saveUpdated({ ...message(5, 2), deleted: true, body: '' });
    await cache.settled();
    expect((await cache.conversation(5))?.[1]).toMatchObject({ deleted: true, body: '' });
    cache.saveChannels([channel(5)]);
    await cache.settled();
    expect(await cache.conversation(6)).toBeNull();
    expect(await cache.conversation(5)).not.toBeNull();
  });

  it('drops what two tabs left out of the index, so every record kept counts against the budget', async () => {
    const options = { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 };
    const a = new OfflineCache(me.id, options);
    const b = new OfflineCache(me.id, options);
    await a.conversation(0);
    await b.conversation(0);
    a.saveHistory(1, history([message(1, 1)]));
    await a.settled();
    b.saveHistory(2, history([message(2, 1)]));
    await b.settled();
    const reloaded = new OfflineCache(me.id, options);
    expect(await reloaded.conversation(1)).toBeNull();
    expect((await reloaded.conversation(2))?.length).toBe(1);
    expect((await reloaded.usage()).conversations).toBe(1);
  });

  it('keeps to the budget: least recently active conversations and oldest thumbnails go first', async () => {
    const { fetchThumb } = thumbs(1000);
    const budget: OfflineBudget = { conversations: 3, messages: 20, totalBytes: 60_000, thumbBytes: 2500, thumbMaxBytes: 1500 };
    const cache = new OfflineCache(me.id, { idb, fetchThumb, budget, writeDelayMs: 0 });
    // Four conversations, channel 1 the least recently active; one photo per message in channel 4.
    for (const id of [1, 2, 3, 4]) {
      const items = range(1, 30).map((s) =>
        message(id, s, { created_at: id * 1_000_000 + s, files: id === 4 ? [image(`f${s}`)] : [] }),
      );
      cache.saveHistory(id, history(items, { hasOlder: true }));
    }
    await cache.settled();
    const usage = await cache.usage();
    expect(usage.conversations).toBe(3);
    expect(await cache.conversation(1)).toBeNull();
    expect((await cache.conversation(4))?.map((m) => m.seq)).toEqual(range(11, 30));
    // Two thumbnails of 1000 bytes fit in 2500: the newest two.
    expect(usage.thumbs).toBe(2000);
    expect(await cache.thumbnail('f30')).not.toBeNull();
    expect(await cache.thumbnail('f29')).not.toBeNull();
    expect(await cache.thumbnail('f28')).toBeNull();
    expect(usage.total).toBeLessThanOrEqual(budget.totalBytes);

    // A tighter budget (bigger conversations): the least recently active goes until it fits.
    const big = range(1, 20).map((s) => message(2, s, { body: 'x'.repeat(800), created_at: 2_000_000 + s }));
    cache.saveHistory(2, history(big, { hasOlder: true }));
    await cache.settled();
    const after = await cache.usage();
    expect(after.total).toBeLessThanOrEqual(budget.totalBytes);
    expect(await cache.conversation(4)).not.toBeNull();
    expect(await cache.conversation(2)).toBeNull();
  });
});

describe('erasing', () => {
  async function filled(userId: number): Promise<OfflineCache> {
    const cache = new OfflineCache(userId, { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 });
    cache.saveMe({ ...me, id: userId });
    cache.saveChannels([channel(5)]);
    cache.saveHistory(5, history([message(5, 1, { files: [image('f1')] })]));
    await cache.settled();
    return cache;
  }

  it('signing out deletes the database and the marker, and a write queued before does not bring it back', async () => {
    const cache = await filled(me.id);
    rememberSignedInUser(me.id);
    expect(await databaseNames(idb)).toContain(offlineDbName(me.id));
    cache.saveHistory(5, history([message(5, 1), message(5, 2)]));
    await eraseOfflineData(me.id, idb);
    await cache.settled();
    await new Promise((r) => setTimeout(r, 20));
    expect(await databaseNames(idb)).not.toContain(offlineDbName(me.id));
    expect(storage.getItem(LAST_USER_KEY)).toBeNull();
    expect(await readOfflineSnapshot(idb)).toBeNull();
  });

  it('a session that ended (401) erases the last signed-in user', async () => {
    await filled(me.id);
    rememberSignedInUser(me.id);
    await forgetSignedInUser(idb);
    expect(await databaseNames(idb)).toEqual([]);
    expect(lastSignedInUser()).toBeNull();
  });

  it('someone else signing in erases the earlier user', async () => {
    await filled(3);
    await filled(me.id);
    await eraseOtherUsers(me.id, idb);
    expect(await databaseNames(idb)).toEqual([offlineDbName(me.id)]);
  });

  it('looking for a copy that does not exist creates none', async () => {
    rememberSignedInUser(42);
    expect(await readOfflineSnapshot(idb)).toBeNull();
    expect(await databaseNames(idb)).toEqual([]);
  });
});

describe('with the chat client', () => {
  it('writes through what the client loads, and shows it when the server cannot be reached', async () => {
    const cache = new OfflineCache(me.id, { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 });
    const live = new ChatClient(me);
    const detach = cache.attach(live);
    cache.saveMe(me);
    live.store.set({ ready: true, connection: 'connected', channels: new Map([[5, channel(5, { last_seq: 2 })]]) });
    live.setPeople([person(2, 'bob'), person(9, 'zed')]);
    live.setHistory(5, history([message(5, 1), message(5, 2)]));
    await cache.settled();
    detach();
    expect((await cache.conversation(5))?.map((m) => m.seq)).toEqual([1, 2]);

    // The next start: the server does not answer.
    rememberSignedInUser(me.id);
    const snapshot = (await readOfflineSnapshot(idb))!;
    expect(snapshot.people.map((p) => p.username)).toEqual(['bob']);
    setFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const offline = new ChatClient(me);
    offline.seed(snapshot);
    cache.attach(offline);
    expect(offline.state).toMatchObject({ ready: true, cached: true });
    await offline.loadLatest(5);
    expect(offline.state.histories.get(5)).toMatchObject({ hasOlder: false, error: null, loading: null });
    expect(offline.state.histories.get(5)!.items.map((m) => m.body)).toEqual(['message 1 of 5', 'message 2 of 5']);
    // A conversation never saved fails as before.
    await offline.loadLatest(6).catch(() => {});
    expect(offline.state.histories.get(6)?.error).toBe('network');
  });
});
