import { IDBFactory, IDBObjectStore as FakeObjectStore } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOGOUT_PENDING_KEY, setFetch, type Channel, type Message } from '../api';
import {
  channel as fixtureChannel,
  file,
  message as fixtureMessage,
  MemoryStorage,
  person as fixturePerson,
  user,
} from '../fixtures.test-util';
import { ChatClient, type History } from './client';
import {
  copyUsable,
  DEFAULT_SESSION_IDLE_DAYS,
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
  shrunkBudget,
  type OfflineBudget,
} from './offline';
import { allowUserData, draftKey, lastChannelKey, outboxKey, positionKey } from './userData';

const MiB = 1024 * 1024;

const me = user({ id: 7 });

const person = (id: number, name: string) => fixturePerson({ id, username: name, display_name: name });

const channel = (id: number, extra: Partial<Channel> = {}) => fixtureChannel({ id, name: `c${id}`, ...extra });

const image = (id: string) =>
  file(id, { name: `${id}.png`, mime: 'image/png', kind: 'image', width: 640, height: 480, thumb_url: `/api/v1/files/${id}/thumb` });

function message(channelId: number, seq: number, extra: Partial<Message> = {}): Message {
  return fixtureMessage({
    id: channelId * 10_000 + seq,
    channel_id: channelId,
    seq,
    body: `message ${seq} of ${channelId}`,
    created_at: 1_000_000 + seq * 1000,
    ...extra,
  });
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
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  setFetch((input, init) => globalThis.fetch(input, init));
  for (const id of [3, 7, 8]) allowUserData(id);
});

const DAY = 86_400_000;

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** Everything a user leaves in localStorage besides the copy. */
function localData(userId: number): string[] {
  const keys = [outboxKey(userId), positionKey(userId), lastChannelKey(userId), draftKey(userId, 5, null), draftKey(userId, 5, 9)];
  for (const key of keys) storage.setItem(key, 'x');
  return keys;
}

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

  it('follows the order linked sites agree on: a late message the window starts with keeps what sorts before it', () => {
    const keyed = (seq: number, sort_key: number) => ({ ...message(1, seq), sort_key });
    const savedKeyed = [keyed(1, 10), keyed(2, 20), keyed(3, 30), keyed(4, 40)];
    // The window starts with seq 9, which arrived late but sorts between 2 and 3.
    const window = [keyed(9, 25), keyed(3, 30), keyed(4, 40), keyed(10, 50)];
    const merged = mergeSavedHistory(savedKeyed, history(window, { hasOlder: true }))!;
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 9, 3, 4, 10]);
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
    cache.saveVerified();
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

describe('the copy’s age', () => {
  it('is usable for the session lifetime from the server’s last confirmation, 30 days when unknown, never without one', () => {
    const now = 100 * DAY;
    expect(DEFAULT_SESSION_IDLE_DAYS).toBe(30);
    expect(copyUsable(now - 6 * DAY, 7, now)).toBe(true);
    expect(copyUsable(now - 8 * DAY, 7, now)).toBe(false);
    expect(copyUsable(now - 29 * DAY, undefined, now)).toBe(true);
    expect(copyUsable(now - 31 * DAY, null, now)).toBe(false);
    expect(copyUsable(now - 31 * DAY, 0, now)).toBe(false);
    expect(copyUsable(null, 30, now)).toBe(false);
    expect(copyUsable(undefined, 30, now)).toBe(false);
  });

  async function saved(verifiedAt: number | null, idleDays?: number): Promise<void> {
    const cache = new OfflineCache(me.id, { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 });
    cache.saveMe(me);
    cache.saveChannels([channel(5)]);
    cache.saveHistory(5, history([message(5, 1)]));
    if (verifiedAt !== null) cache.saveVerified(verifiedAt);
    cache.saveSessionLifetime(idleDays);
    await cache.settled();
    cache.close();
    rememberSignedInUser(me.id);
  }

  it('opens within the server’s session lifetime, and says when it was saved', async () => {
    const before = Date.now();
    await saved(Date.now() - 6 * DAY, 7);
    const snapshot = await readOfflineSnapshot(idb);
    expect(snapshot?.me).toEqual(me);
    expect(snapshot?.savedAt).toBeGreaterThanOrEqual(before);
  });

  it('an older copy is refused and erased, with the user’s local data', async () => {
    await saved(Date.now() - 8 * DAY, 7);
    const keys = localData(me.id);
    expect(await readOfflineSnapshot(idb)).toBeNull();
    expect(await databaseNames(idb)).toEqual([]);
    expect(lastSignedInUser()).toBeNull();
    for (const key of keys) expect(storage.getItem(key), key).toBeNull();
  });

  it('counts 30 days where the server does not say (an older server), and refuses a copy that cannot say its age', async () => {
    await saved(Date.now() - 29 * DAY);
    expect(await readOfflineSnapshot(idb)).not.toBeNull();
    expect(await readOfflineSnapshot(idb, Date.now() + 2 * DAY)).toBeNull();
    expect(await databaseNames(idb)).toEqual([]);

    await saved(null, 30);
    expect(await readOfflineSnapshot(idb)).toBeNull();
    expect(await databaseNames(idb)).toEqual([]);
  });

  it('keeps the lifetime the server gave, ignoring nonsense', async () => {
    await saved(Date.now() - 3 * DAY, 2);
    const cache = new OfflineCache(me.id, { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 });
    cache.saveSessionLifetime(Number.NaN);
    cache.saveSessionLifetime(-1);
    await cache.settled();
    cache.close();
    expect(await readOfflineSnapshot(idb)).toBeNull();
  });
});

describe('erasing what else the user left', () => {
  async function filled(userId: number): Promise<void> {
    const cache = new OfflineCache(userId, { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 });
    cache.saveMe({ ...me, id: userId });
    cache.saveHistory(5, history([message(5, 1)]));
    await cache.settled();
    cache.close();
  }

  it('signing out removes the outbox, drafts, position and last channel, and nobody else’s or the device’s keys', async () => {
    await filled(me.id);
    const mine = localData(me.id);
    const theirs = localData(8);
    storage.setItem('outpost.language', 'ru');
    await eraseOfflineData(me.id, idb);
    for (const key of mine) expect(storage.getItem(key), key).toBeNull();
    for (const key of theirs) expect(storage.getItem(key), key).toBe('x');
    expect(storage.getItem('outpost.language')).toBe('ru');
  });

  it('a 401 deletes every copy on the device, not only the one the marker names, and everyone’s local data', async () => {
    await filled(3);
    await filled(me.id);
    await filled(8);
    const keys = [...localData(3), ...localData(me.id)];
    rememberSignedInUser(me.id);
    storage.setItem(LOGOUT_PENDING_KEY, '1');
    await forgetSignedInUser(idb);
    expect(await databaseNames(idb)).toEqual([]);
    for (const key of keys) expect(storage.getItem(key), key).toBeNull();
    expect(lastSignedInUser()).toBeNull();
    // A device setting, not the user's data.
    expect(storage.getItem(LOGOUT_PENDING_KEY)).toBe('1');
  });

  it('a 401 with no marker left still deletes the copies', async () => {
    await filled(3);
    await forgetSignedInUser(idb);
    expect(await databaseNames(idb)).toEqual([]);
  });

  it('someone else signing in erases the others’ local data too, even where databases cannot be listed', async () => {
    await filled(3);
    await filled(me.id);
    const theirs = localData(3);
    const mine = localData(me.id);
    const unlisted = {
      open: idb.open.bind(idb),
      deleteDatabase: idb.deleteDatabase.bind(idb),
      cmp: idb.cmp.bind(idb),
    } as unknown as IDBFactory;
    await eraseOtherUsers(me.id, unlisted);
    for (const key of theirs) expect(storage.getItem(key), key).toBeNull();
    for (const key of mine) expect(storage.getItem(key), key).toBe('x');
    // The owner of the keys had a copy: it went as well.
    expect(await databaseNames(idb)).toEqual([offlineDbName(me.id)]);
  });
});

describe('a write the browser refuses', () => {
  const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

  /** `put` into `store` throws as a full disk makes it, `times` times (every time when omitted). */
  function refuse(store: 'conversations' | 'thumbs', times = Infinity) {
    let left = times;
    const put = FakeObjectStore.prototype.put;
    return vi.spyOn(FakeObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === store && left > 0) {
        left--;
        throw quota();
      }
      return put.call(this, value, key);
    });
  }

  const channels = [1, 2, 3, 4, 5].map((id) => channel(id, { last_seq: id === 5 ? 60 : 30 }));

  /** Four older conversations of 30 long messages, and channel 5 saved up to seq 10. */
  async function filledCache(budget?: OfflineBudget): Promise<OfflineCache> {
    const cache = new OfflineCache(me.id, { idb, fetchThumb: thumbs(400).fetchThumb, writeDelayMs: 0, budget });
    for (const id of [1, 2, 3, 4]) {
      const items = range(1, 30).map((s) => message(id, s, { body: 'y'.repeat(300), created_at: id * 1000 + s }));
      cache.saveLatest(id, items, 30);
    }
    cache.saveLatest(5, range(1, 10).map((s) => message(5, s, { created_at: 9_000_000 + s })), 10);
    await cache.settled();
    return cache;
  }

  /** What a page opening the database now would believe. */
  async function reloaded(): Promise<OfflineCache> {
    const again = new OfflineCache(me.id, { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 });
    await again.usage();
    return again;
  }

  const latest = range(50, 60).map((s) => message(5, s, { created_at: 9_000_000 + s }));

  it('leaves the copy as the database has it: still behind the server, no hidden gap', async () => {
    const cache = await filledCache();
    expect(cache.staleChannels(channels).map((c) => c.id)).toEqual([5]);
    const spy = refuse('conversations');
    // The server's latest page after the app was closed a while: 11–49 are not in it.
    cache.saveLatest(5, latest, 60);
    await cache.settled();
    spy.mockRestore();

    // Not counted as up to date: the next refresh asks again rather than believe 11–60 are here.
    expect(cache.staleChannels(channels).map((c) => c.id)).toEqual([5]);
    expect((await cache.conversation(5))?.map((m) => m.seq)).toEqual(range(1, 10));
    // What this page believes is what the database says, byte for byte.
    const again = await reloaded();
    expect(await cache.usage()).toEqual(await again.usage());
    expect(again.staleChannels(channels).map((c) => c.id)).toEqual([5]);

    // The disk has room again: the same refresh goes through.
    cache.saveLatest(5, latest, 60);
    await cache.settled();
    expect((await cache.conversation(5))?.map((m) => m.seq)).toEqual(range(50, 60));
    expect(cache.staleChannels(channels)).toEqual([]);
  });

  it('makes room under a smaller budget and tries once more', async () => {
    const cache = await filledCache();
    const before = await cache.usage();
    expect(before.conversations).toBe(5);
    const spy = refuse('conversations', 1);
    cache.saveLatest(5, latest, 60);
    await cache.settled();
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();

    expect((await cache.conversation(5))?.map((m) => m.seq)).toEqual(range(50, 60));
    expect(cache.staleChannels(channels)).toEqual([]);
    const after = await cache.usage();
    // Half of what was kept when the browser refused, the least recently active going first.
    expect(after.total).toBeLessThanOrEqual(before.total / 2);
    expect(after.conversations).toBeLessThan(5);
    expect(await cache.conversation(1)).toBeNull();
    expect(await cache.usage()).toEqual(await (await reloaded()).usage());

    // And it keeps to that budget afterwards.
    cache.saveLatest(1, range(1, 30).map((s) => message(1, s, { body: 'y'.repeat(300), created_at: 10_000_000 + s })), 30);
    await cache.settled();
    expect((await cache.usage()).total).toBeLessThanOrEqual(before.total / 2);
  });

  it('a thumbnail the browser refuses is not counted as kept', async () => {
    const cache = new OfflineCache(me.id, { idb, fetchThumb: thumbs(400).fetchThumb, writeDelayMs: 0 });
    const spy = refuse('thumbs');
    cache.saveLatest(5, [message(5, 1, { files: [image('f1')] })], 1);
    await cache.settled();
    spy.mockRestore();
    expect(await cache.thumbnail('f1')).toBeNull();
    expect((await cache.usage()).thumbs).toBe(0);
    expect(await cache.usage()).toEqual(await (await reloaded()).usage());
  });

  it('the smaller budget is half of what is kept, thumbnails in proportion', () => {
    expect(shrunkBudget(OFFLINE_BUDGET, 10 * MiB)).toMatchObject({ totalBytes: 5 * MiB, thumbBytes: 3 * MiB, conversations: 30 });
    expect(shrunkBudget(OFFLINE_BUDGET, 100 * MiB).totalBytes).toBe(OFFLINE_TOTAL_BYTES);
  });
});

describe('the refresh after connecting', () => {
  /** A client connected with these channels, followed by `cache`; the refresh timer run. */
  async function connect(cache: OfflineCache, channels: Channel[]): Promise<{ client: ChatClient; detach: () => void }> {
    const client = new ChatClient(me);
    const detach = cache.attach(client);
    client.store.set({ ready: true, connection: 'connected', channels: new Map(channels.map((c) => [c.id, c])) });
    await vi.advanceTimersByTimeAsync(10_000);
    return { client, detach };
  }

  it('replaces each saved conversation with the server’s latest page: deletions, edits and expiry apply', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const cache = new OfflineCache(me.id, { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 });
    cache.saveLatest(5, range(1, 5).map((s) => message(5, s)), 5);
    cache.saveLatest(6, [message(6, 1)], 1);
    await cache.settled();
    // While the app was closed: 1 expired, 3 was deleted, 4 edited. Nothing new: last_seq is the same.
    const page = [message(5, 2), { ...message(5, 3), deleted: true, body: '' }, { ...message(5, 4), body: 'edited', edited: true }, message(5, 5)];
    const asked: string[] = [];
    setFetch(async (url) => {
      asked.push(url);
      if (url.includes('/channels/5/messages')) return json(page);
      if (url.includes('/channels/6/messages')) return json([message(6, 1)]);
      return json({ error: { code: 'not-found', message: '' } }, 404);
    });
    const { detach } = await connect(cache, [channel(5, { last_seq: 5 }), channel(6, { last_seq: 1 })]);
    await vi.waitFor(() => expect(asked.filter((u) => u.includes('/messages')).length).toBe(2));
    await cache.settled();
    detach();
    expect(asked.filter((u) => u.includes('/messages')).every((u) => !u.includes('after'))).toBe(true);
    expect(await cache.conversation(5)).toEqual(page);
  });

  it('a refusal for one channel (404: left meanwhile) does not stop the others; no answer at all does', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const cache = new OfflineCache(me.id, { idb, fetchThumb: thumbs().fetchThumb, writeDelayMs: 0 });
    cache.saveLatest(5, [message(5, 1)], 1);
    // Channel 6 is the more recently active: refreshed first.
    cache.saveLatest(6, [message(6, 1, { created_at: 2_000_000 })], 1);
    await cache.settled();
    const asked: number[] = [];
    let answer: (id: number) => Promise<Response> = async (id) =>
      id === 6 ? json({ error: { code: 'not-found', message: '' } }, 404) : json([message(id, 1), message(id, 2)]);
    setFetch((url) => {
      const id = Number(/\/channels\/(\d+)\/messages/.exec(url)?.[1]);
      if (!id) return Promise.resolve(json([]));
      asked.push(id);
      return answer(id);
    });
    const channels = [channel(5, { last_seq: 2 }), channel(6, { last_seq: 2 })];
    const { client, detach } = await connect(cache, channels);
    await vi.waitFor(() => expect(asked).toEqual([6, 5]));
    await cache.settled();
    expect((await cache.conversation(5))?.map((m) => m.seq)).toEqual([1, 2]);

    // Reconnected with both behind; the server is gone again at the first request.
    asked.length = 0;
    answer = () => Promise.reject(new TypeError('Failed to fetch'));
    client.store.set({ connection: 'reconnecting' });
    client.store.set({ connection: 'connected', channels: new Map([channel(5, { last_seq: 4 }), channel(6, { last_seq: 4 })].map((c) => [c.id, c])) });
    await vi.advanceTimersByTimeAsync(10_000);
    await cache.settled();
    detach();
    expect(asked).toEqual([6]);
  });
});

describe('thumbnails', () => {
  it('are not fetched for a conversation no longer kept', async () => {
    const cache = new OfflineCache(me.id, {
      idb,
      writeDelayMs: 0,
      fetchThumb: async (url) => {
        asked.push(url);
        if (asked.length === 1) {
          // Meanwhile the user left channel 5: its copy goes.
          cache.saveChannels([channel(6)]);
          await cache.flush();
        }
        return new Blob([new Uint8Array(100)]);
      },
    });
    const asked: string[] = [];
    cache.saveChannels([channel(5), channel(6)]);
    cache.saveHistory(5, history([message(5, 1, { files: [image('f1')] }), message(5, 2, { files: [image('f2')] })]));
    await cache.settled();
    expect(asked).toEqual(['/api/v1/files/f2/thumb']);
    expect(await cache.conversation(5)).toBeNull();
    expect((await cache.usage()).thumbs).toBe(0);
  });
});
