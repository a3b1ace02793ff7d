// Reading without the server (issue #21): the device keeps its own copy of the signed-in
// user's recent conversations in IndexedDB, so the app opens and shows them while the
// server cannot be reached. One database per user (`outpost-offline-<id>`); signing out,
// or the server saying the session ended, deletes it, with the user's other local data
// (`userData.ts`). A copy is opened only within the server's session lifetime, counted from
// the last time the server confirmed the session; an older one is erased instead.
//
// What is kept: the user (`me`) and their preferences, the channel list (the sidebar), the
// people those conversations need (names, initials), and for the most recently active
// conversations their latest messages, with the photo thumbnails of those messages as Blobs.
// It is written behind the app (batched, never before anything renders) from what the chat
// client already loaded and from the live events, and refreshed in the background after each
// (re)connection: each conversation refreshed gets the server's latest page in place of its
// saved one, so deletions, edits and expired messages leave the copy too.
//
// The storage budget, per user and device (OFFLINE_BUDGET):
//   - 30 conversations (the most recently active), each with its last 200 messages;
//   - 25 MiB in all, of which photo thumbnails take at most 15 MiB (none over 512 KiB).
// Sizes are estimates: 2 bytes per character of a record's JSON text (what a browser may
// keep for non-Latin text), and Blob.size for thumbnails. After every write the budget is
// enforced: conversations past the 30 most recent go first, then the oldest thumbnails until
// they fit their share, then, while the whole is still over, the least recently active
// conversations with their thumbnails. When the browser refuses the space anyway, the budget
// becomes half of what is kept, and the write is tried once more after making room.

import { useEffect, useState } from 'preact/hooks';
import { chatApi, NetworkError, type Channel, type FileView, type Message, type Person, type Preferences, type User } from '../api';
import type { ChatClient, ChatState, History } from './client';
import { compareMessages, isDirect } from './logic';
import { allowUserData, eraseUserData, eraseUserKeys } from './userData';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface OfflineBudget {
  /** Conversations kept (the most recently active). */
  conversations: number;
  /** Messages kept per conversation (the latest). */
  messages: number;
  /** Everything together. */
  totalBytes: number;
  /** Photo thumbnails together (part of `totalBytes`). */
  thumbBytes: number;
  /** A larger thumbnail is not kept at all. */
  thumbMaxBytes: number;
}

export const OFFLINE_CONVERSATIONS = 30;
export const OFFLINE_MESSAGES = 200;
export const OFFLINE_TOTAL_BYTES = 25 * MiB;
export const OFFLINE_THUMB_BYTES = 15 * MiB;
export const OFFLINE_THUMB_MAX_BYTES = 512 * KiB;

export const OFFLINE_BUDGET: OfflineBudget = {
  conversations: OFFLINE_CONVERSATIONS,
  messages: OFFLINE_MESSAGES,
  totalBytes: OFFLINE_TOTAL_BYTES,
  thumbBytes: OFFLINE_THUMB_BYTES,
  thumbMaxBytes: OFFLINE_THUMB_MAX_BYTES,
};

/** Who used the app last on this device: whose copy to open when the server cannot say. */
export const LAST_USER_KEY = 'outpost.offline.user';
const DB_PREFIX = 'outpost-offline-';
const DB_VERSION = 1;
/** Writes wait this long for more changes, so a burst of messages is one transaction. */
const WRITE_DELAY_MS = 1000;

export function offlineDbName(userId: number): string {
  return `${DB_PREFIX}${userId}`;
}

// ---- sizes and the budget (pure) ------------------------------------------------------------

/** The estimated stored size of a JSON-like value: 2 bytes per character of its JSON text. */
export function estimateBytes(value: unknown): number {
  try {
    return (JSON.stringify(value) ?? '').length * 2;
  } catch {
    return 0;
  }
}

export interface ConversationEntry {
  channel_id: number;
  /** The later of its newest message and the last time it was open on screen (ms). */
  active_at: number;
  bytes: number;
}

export interface ThumbEntry {
  file_id: string;
  channel_id: number;
  /** When the message carrying it was sent (ms): the oldest go first. */
  message_at: number;
  bytes: number;
}

export interface EvictionPlan {
  conversations: number[];
  thumbs: string[];
}

/**
 * What to delete to keep to the budget (see the top of this file): `referenced` are the files
 * the kept messages still show (a thumbnail of a message that fell out of the last 200 goes).
 */
export function planEviction(
  conversations: readonly ConversationEntry[],
  thumbs: readonly ThumbEntry[],
  metaBytes: number,
  budget: OfflineBudget = OFFLINE_BUDGET,
  referenced: ReadonlySet<string> | null = null,
): EvictionPlan {
  const byRecency = [...conversations].sort((a, b) => b.active_at - a.active_at || b.channel_id - a.channel_id);
  const kept = byRecency.slice(0, Math.max(0, budget.conversations));
  const dropConversations = new Set(byRecency.slice(kept.length).map((c) => c.channel_id));
  const dropThumbs = new Set<string>();
  for (const t of thumbs) {
    if (dropConversations.has(t.channel_id) || t.bytes > budget.thumbMaxBytes || (referenced && !referenced.has(t.file_id))) {
      dropThumbs.add(t.file_id);
    }
  }
  // Oldest first.
  let keptThumbs = thumbs
    .filter((t) => !dropThumbs.has(t.file_id))
    .sort((a, b) => a.message_at - b.message_at || (a.file_id < b.file_id ? -1 : 1));
  let thumbBytes = keptThumbs.reduce((n, t) => n + t.bytes, 0);
  let oldest = 0;
  while (thumbBytes > budget.thumbBytes && oldest < keptThumbs.length) {
    const t = keptThumbs[oldest++]!;
    dropThumbs.add(t.file_id);
    thumbBytes -= t.bytes;
  }
  keptThumbs = keptThumbs.slice(oldest);
  let total = metaBytes + thumbBytes + kept.reduce((n, c) => n + c.bytes, 0);
  while (total > budget.totalBytes && kept.length) {
    const c = kept.pop()!;
    dropConversations.add(c.channel_id);
    total -= c.bytes;
    keptThumbs = keptThumbs.filter((t) => {
      if (t.channel_id !== c.channel_id) return true;
      dropThumbs.add(t.file_id);
      total -= t.bytes;
      return false;
    });
  }
  return { conversations: [...dropConversations], thumbs: [...dropThumbs] };
}

/**
 * The conversation's saved messages after the client loaded `history`: null when that history
 * says nothing about the latest messages (loading, or a window into the past). A window that
 * overlaps the saved messages (or reaches the first message) extends them; one after a gap
 * replaces them, so the copy never hides a gap.
 */
export function mergeSavedHistory(
  saved: readonly Message[],
  history: Pick<History, 'items' | 'hasOlder' | 'hasNewer' | 'loading'>,
  limit: number = OFFLINE_MESSAGES,
): Message[] | null {
  if (history.hasNewer || history.loading === 'initial') return null;
  const items = history.items;
  if (!items.length) return history.hasOlder ? null : [];
  // In conversation order (`compareMessages`: the order linked sites agree on, else seq).
  const first = items[0]!;
  const lastSaved = saved[saved.length - 1];
  const overlaps = lastSaved !== undefined && compareMessages(first, lastSaved) <= 0;
  const loaded = new Set(items.map((m) => m.id));
  const merged =
    history.hasOlder && overlaps
      ? [...saved.filter((m) => compareMessages(m, first) < 0 && !loaded.has(m.id)), ...items]
      : [...items];
  return merged.slice(-limit);
}

/** Photos of the messages that have a thumbnail: what is saved beside them. */
function imagesOf(messages: readonly Message[]): { file: FileView; at: number }[] {
  const out: { file: FileView; at: number }[] = [];
  for (const m of messages) {
    if (m.deleted) continue;
    for (const f of m.files ?? []) if (f.kind === 'image' && f.thumb_url) out.push({ file: f, at: m.created_at });
  }
  return out;
}

/** The people a conversation shows: authors, who reacted, quoted authors. */
function peopleOf(messages: readonly Message[]): number[] {
  const ids = new Set<number>();
  for (const m of messages) {
    if (m.author_id !== null) ids.add(m.author_id);
    for (const r of m.reactions) for (const id of r.user_ids) ids.add(id);
    if (typeof m.quote?.author_id === 'number') ids.add(m.quote.author_id);
  }
  return [...ids];
}

// ---- the copy's age (pure) ----------------------------------------------------------------

/** Days an unused session lasts when the server does not say (older servers): its default. */
export const DEFAULT_SESSION_IDLE_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * Whether a copy last confirmed by the server at `verifiedAt` may still be opened at `now`:
 * not once the session it belongs to has lapsed on the server (`idleDays` unused), since
 * nobody could sign in with it any more. A copy that cannot say when it was confirmed may not.
 */
export function copyUsable(verifiedAt: unknown, idleDays: unknown, now: number = Date.now()): boolean {
  if (typeof verifiedAt !== 'number' || !Number.isFinite(verifiedAt)) return false;
  const days = typeof idleDays === 'number' && Number.isFinite(idleDays) && idleDays > 0 ? idleDays : DEFAULT_SESSION_IDLE_DAYS;
  return now - verifiedAt <= days * DAY_MS;
}

/** The browser refused the space (the names differ between browsers). */
export function isQuotaError(err: unknown): boolean {
  const name = typeof err === 'object' && err !== null && 'name' in err ? (err as { name: unknown }).name : null;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/**
 * The budget after the browser refused to store more: half of what is kept now (`keptBytes`),
 * thumbnails in the same proportion, so eviction frees room and later writes stay under it.
 */
export function shrunkBudget(budget: OfflineBudget, keptBytes: number): OfflineBudget {
  const totalBytes = Math.max(0, Math.min(budget.totalBytes, Math.floor(keptBytes / 2)));
  const share = budget.totalBytes > 0 ? budget.thumbBytes / budget.totalBytes : 0;
  return { ...budget, totalBytes, thumbBytes: Math.min(budget.thumbBytes, Math.floor(totalBytes * share)) };
}

// ---- IndexedDB plumbing -------------------------------------------------------------------

interface ConversationSummary extends ConversationEntry {
  /** The newest saved message's seq. */
  last_seq: number;
  /** The channel's `last_seq` the saved copy is up to date with. */
  synced_seq: number;
  /** Thumbnails of the saved messages. */
  images: { file_id: string; url: string; at: number }[];
  people: number[];
}

interface ConversationRecord {
  channel_id: number;
  messages: Message[];
}

interface ThumbRecord extends ThumbEntry {
  blob: Blob;
}

/** Kept in `meta` beside the data it describes (same transactions), so opening reads no messages. */
interface IndexRecord {
  conversations: ConversationSummary[];
  thumbs: ThumbEntry[];
}

/**
 * `saved_at`: when the copy last took in what the server said (shown as its age);
 * `verified_at`: when the server last confirmed the session; `session_idle_days`: how long the
 * server keeps an unused session (the copy's age limit).
 */
type MetaKey = 'me' | 'preferences' | 'channels' | 'people' | 'index' | 'saved_at' | 'verified_at' | 'session_idle_days';

interface MetaRecord<T> {
  value: T;
  bytes: number;
}

/** What the app needs to open without the server; messages are read per conversation. */
export interface OfflineSnapshot {
  me: User;
  preferences: Preferences | null;
  channels: Channel[];
  people: Person[];
  /** When the copy last took in the server's data (ms), or null when it cannot say. */
  savedAt: number | null;
}

/** What the database holds, as far as the budget is concerned. */
interface CacheIndex {
  summaries: Map<number, ConversationSummary>;
  thumbs: Map<string, ThumbEntry>;
  metaBytes: Map<MetaKey, number>;
}

function emptyIndex(): CacheIndex {
  return { summaries: new Map(), thumbs: new Map(), metaBytes: new Map() };
}

/** Entries are replaced, never changed in place, so copying the maps is enough. */
function copyIndex(index: CacheIndex): CacheIndex {
  return { summaries: new Map(index.summaries), thumbs: new Map(index.thumbs), metaBytes: new Map(index.metaBytes) };
}

function defaultFactory(): IDBFactory | null {
  try {
    return typeof indexedDB !== 'undefined' ? indexedDB : null;
  } catch {
    return null;
  }
}

function localStore(): Storage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    // A failed request reaches the transaction before it aborts, when `tx.error` is not set yet.
    tx.onerror = (event) =>
      reject((event.target as IDBRequest | null)?.error ?? tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/**
 * Opens the user's database; with `create` false, only one that exists (a look-up must not
 * leave an empty database behind for someone who never had one).
 */
function openDatabase(idb: IDBFactory, name: string, create: boolean): Promise<IDBDatabase | null> {
  return new Promise((resolve) => {
    let req: IDBOpenDBRequest;
    try {
      req = idb.open(name, DB_VERSION);
    } catch {
      resolve(null);
      return;
    }
    let refused = false;
    req.onupgradeneeded = (event) => {
      if (!create && event.oldVersion === 0) {
        refused = true;
        req.transaction?.abort();
        return;
      }
      const db = req.result;
      for (const store of ['meta', 'conversations', 'thumbs']) {
        if (db.objectStoreNames.contains(store)) continue;
        if (store === 'meta') db.createObjectStore(store);
        else db.createObjectStore(store, { keyPath: store === 'thumbs' ? 'file_id' : 'channel_id' });
      }
    };
    req.onsuccess = () => resolve(refused ? null : req.result);
    req.onerror = (event) => {
      // An aborted look-up is an answer ("none"), not an error to report.
      event.preventDefault();
      resolve(null);
    };
    req.onblocked = () => resolve(null);
  });
}

/**
 * Deletes one database. Resolves once deleted, or after `timeoutMs` when another tab still
 * holds it open (the deletion then completes as soon as that tab lets go, which it does when
 * asked).
 */
function deleteDatabase(idb: IDBFactory, name: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      const req = idb.deleteDatabase(name);
      req.onsuccess = finish;
      req.onerror = finish;
    } catch {
      finish();
    }
  });
}

/** The users with a copy on this device, or null where the browser cannot list databases. */
async function usersWithCopies(idb: IDBFactory): Promise<number[] | null> {
  if (typeof idb.databases !== 'function') return null;
  let list: IDBDatabaseInfo[];
  try {
    list = await idb.databases();
  } catch {
    return null;
  }
  const pattern = new RegExp(`^${DB_PREFIX}(\\d+)$`);
  const ids: number[] = [];
  for (const info of list) {
    const m = info.name ? pattern.exec(info.name) : null;
    if (m) ids.push(Number(m[1]));
  }
  return ids;
}

// ---- the cache ----------------------------------------------------------------------------

export type ThumbFetcher = (url: string) => Promise<Blob | null>;

/** The thumbnail as the page shows it (same origin, the session cookie, the browser's HTTP cache). */
const fetchThumbnail: ThumbFetcher = async (url) => {
  let res: Response;
  try {
    res = await fetch(url, { credentials: 'same-origin' });
  } catch (cause) {
    throw new NetworkError(cause);
  }
  return res.ok ? res.blob() : null;
};

interface PendingWrites {
  meta: Map<MetaKey, unknown>;
  people: ReadonlyMap<number, Person> | null;
  histories: Map<number, { history: History; activeAt: number; syncedSeq: number }>;
  /** The latest messages as the server answered: they replace the saved ones. */
  fetched: Map<number, { messages: Message[]; syncedSeq: number }>;
  updated: Map<number, Map<number, Message>>;
  /** Something here came from the server now: the copy's `saved_at` moves. */
  fresh: boolean;
}

function noWrites(): PendingWrites {
  return { meta: new Map(), people: null, histories: new Map(), fetched: new Map(), updated: new Map(), fresh: false };
}

export interface OfflineCacheOptions {
  idb?: IDBFactory | null;
  budget?: OfflineBudget;
  fetchThumb?: ThumbFetcher;
  /** Delay of batched writes (tests pass 0 and call `flush`). */
  writeDelayMs?: number;
}

/** Makes the transaction's writes; `guard` wraps request callbacks, so a throw there fails the change. */
type Fill = (tx: IDBTransaction, next: CacheIndex, guard: (fn: () => void) => () => void) => void | Promise<void>;

export class OfflineCache {
  readonly budget: OfflineBudget;
  private readonly idb: IDBFactory | null;
  private readonly fetchThumb: ThumbFetcher;
  private readonly writeDelayMs: number;
  private db: Promise<IDBDatabase | null> | null = null;
  private closed = false;
  /**
   * Always what the database holds: a change is made on a copy, which replaces this only once
   * its transaction committed. Were it ahead of the database after a failed write, the copy
   * would count as up to date while it is not, and hide a gap in a conversation.
   */
  private index: CacheIndex = emptyIndex();
  /** The budget enforced: `budget`, or less once the browser refused to store more. */
  private limit: OfflineBudget;
  private pending = noWrites();
  private writeTimer: ReturnType<typeof setTimeout> | null = null;
  /** The end of the queue of changes to the database: one at a time, each on the index the last one left. */
  private writing: Promise<void> = Promise.resolve();
  /** Thumbnails the server refused or that are too large: not asked for again in this page. */
  private skippedThumbs = new Set<string>();
  /** The latest people list and channel list handed over (the people kept depend on both). */
  private people: ReadonlyMap<number, Person> | null = null;
  private channels: readonly Channel[] = [];

  constructor(
    readonly userId: number,
    options: OfflineCacheOptions = {},
  ) {
    this.idb = options.idb === undefined ? defaultFactory() : options.idb;
    this.budget = options.budget ?? OFFLINE_BUDGET;
    this.limit = this.budget;
    this.fetchThumb = options.fetchThumb ?? fetchThumbnail;
    this.writeDelayMs = options.writeDelayMs ?? WRITE_DELAY_MS;
  }

  private open(): Promise<IDBDatabase | null> {
    if (this.closed || !this.idb) return Promise.resolve(null);
    this.db ??= openDatabase(this.idb, offlineDbName(this.userId), true).then(async (db) => {
      if (!db) return null;
      if (this.closed) {
        db.close();
        return null;
      }
      // Someone deletes the database (signing out in another tab): let go of it at once.
      db.onversionchange = () => {
        this.close();
        db.close();
      };
      try {
        const store = db.transaction('meta').objectStore('meta');
        const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
        const loaded = emptyIndex();
        keys.forEach((key, i) => {
          const record = values[i] as MetaRecord<unknown>;
          loaded.metaBytes.set(key as MetaKey, record.bytes ?? 0);
          if (key !== 'index') return;
          const index = record.value as IndexRecord;
          for (const c of index.conversations ?? []) loaded.summaries.set(c.channel_id, c);
          for (const t of index.thumbs ?? []) loaded.thumbs.set(t.file_id, t);
        });
        this.index = loaded;
        // Not queued behind the other changes: they all wait for this database, so none runs yet.
        await this.reconcile(db);
      } catch {
        // An unreadable index: the data is rewritten as it comes.
      }
      return db;
    });
    return this.db;
  }

  /** Runs `step` after every change queued before it: changes never interleave. */
  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.writing.then(step);
    this.writing = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /**
   * One read-write transaction over `stores`, made by `fill` on a copy of the index. The copy
   * becomes the index once the transaction committed; when it fails, nothing of it counts.
   * Rejects with the error that failed it (a `QuotaExceededError` as such).
   */
  private async change(db: IDBDatabase, stores: string[], fill: Fill): Promise<void> {
    const next = copyIndex(this.index);
    const tx = db.transaction(stores, 'readwrite');
    const outcome = committed(tx);
    let failure: unknown = null;
    const fail = (err: unknown) => {
      failure ??= err;
      try {
        tx.abort();
      } catch {
        // already over
      }
    };
    const guard = (fn: () => void) => () => {
      try {
        fn();
      } catch (err) {
        fail(err);
      }
    };
    let filled: void | Promise<void> = undefined;
    try {
      filled = fill(tx, next, guard);
    } catch (err) {
      fail(err);
    }
    try {
      await Promise.all([outcome, Promise.resolve(filled).catch(fail)]);
    } catch (err) {
      throw failure ?? err;
    }
    if (failure) throw failure;
    this.index = next;
  }

  /**
   * Runs `step`; when the browser refuses the space, keeps to a smaller budget from then on,
   * makes room by it and tries once more (the step must be safe to run twice).
   */
  private async withRoom(db: IDBDatabase, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      if (!isQuotaError(err) || this.closed) throw err;
      this.limit = shrunkBudget(this.limit, this.bytesKept());
      await this.enforce(db);
      await step();
    }
  }

  /**
   * Two tabs each write the index from what they know, so the last one may leave out a record
   * the other wrote. The budget only counts indexed records: unindexed ones go, and so do index
   * entries without a record.
   */
  private reconcile(db: IDBDatabase): Promise<void> {
    return this.change(db, ['conversations', 'thumbs', 'meta'], async (tx, next) => {
      const [conversations, thumbs] = await Promise.all([
        done(tx.objectStore('conversations').getAllKeys()),
        done(tx.objectStore('thumbs').getAllKeys()),
      ]);
      const stored = new Set(conversations.map(Number));
      const storedThumbs = new Set(thumbs.map(String));
      let changed = false;
      for (const key of conversations) {
        if (next.summaries.has(Number(key))) continue;
        tx.objectStore('conversations').delete(key);
      }
      for (const key of thumbs) {
        if (next.thumbs.has(String(key))) continue;
        tx.objectStore('thumbs').delete(key);
      }
      for (const id of [...next.summaries.keys()]) {
        if (stored.has(id)) continue;
        next.summaries.delete(id);
        changed = true;
      }
      for (const id of [...next.thumbs.keys()]) {
        if (storedThumbs.has(id)) continue;
        next.thumbs.delete(id);
        changed = true;
      }
      if (changed) this.putIndex(tx.objectStore('meta'), next);
    });
  }

  /** Stops writing and lets go of the database (before it is deleted, or the page leaves). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    this.pending = noWrites();
    const db = this.db;
    this.db = null;
    void db?.then((d) => d?.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- what the client hands over (queued, written in batches) ----

  saveMe(user: User): void {
    this.queueMeta('me', user, true);
  }

  savePreferences(prefs: Preferences): void {
    this.queueMeta('preferences', prefs, true);
  }

  saveChannels(channels: readonly Channel[]): void {
    this.queueMeta('channels', [...channels], true);
  }

  /** The server confirmed the session (at `at`): the copy may be opened for its lifetime from then. */
  saveVerified(at: number = Date.now()): void {
    this.queueMeta('verified_at', at, false);
  }

  /** How long the server keeps an unused session (`GET /server`); ignored when it does not say. */
  saveSessionLifetime(days: number | null | undefined): void {
    if (typeof days === 'number' && Number.isFinite(days) && days > 0) this.queueMeta('session_idle_days', days, false);
  }

  /** What is kept matched the server until now (the connection is going, or the page). */
  saveSyncedNow(): void {
    if (this.closed) return;
    this.pending.fresh = true;
    this.schedule();
  }

  /** The people list; only those the saved conversations and the sidebar need are kept. */
  savePeople(people: ReadonlyMap<number, Person>): void {
    if (this.closed) return;
    this.pending.people = people;
    this.pending.fresh = true;
    this.schedule();
  }

  /** A conversation's loaded history (`activeAt`: when it was last seen open, or 0). */
  saveHistory(channelId: number, history: History, activeAt = 0, syncedSeq = 0): void {
    if (this.closed) return;
    this.pending.histories.set(channelId, { history, activeAt, syncedSeq });
    this.pending.fresh = true;
    this.schedule();
  }

  /**
   * The latest messages of a conversation as the server answered: they replace the saved ones,
   * so what was deleted, edited or expired meanwhile goes from the copy too.
   */
  saveLatest(channelId: number, messages: readonly Message[], syncedSeq: number): void {
    if (this.closed) return;
    this.pending.histories.delete(channelId);
    this.pending.fetched.set(channelId, { messages: [...messages], syncedSeq });
    this.pending.fresh = true;
    this.schedule();
  }

  /** A message changed (edited, deleted, reacted to): the saved copy follows. */
  saveUpdated(message: Message): void {
    if (this.closed || !this.index.summaries.has(message.channel_id)) return;
    const map = this.pending.updated.get(message.channel_id) ?? new Map<number, Message>();
    map.set(message.id, message);
    this.pending.updated.set(message.channel_id, map);
    this.pending.fresh = true;
    this.schedule();
  }

  private queueMeta(key: MetaKey, value: unknown, fresh: boolean): void {
    if (this.closed) return;
    this.pending.meta.set(key, value);
    if (fresh) this.pending.fresh = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.writeTimer || this.closed) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = null;
      void this.flush();
    }, this.writeDelayMs);
  }

  /** Writes what is queued now (after the changes queued before). */
  flush(): Promise<void> {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    return this.exclusive(() => this.write()).catch(() => {
      // Storage refused even after making room (private mode, a full disk): the index still
      // describes what was kept, and reading offline is a nicety: the app goes on.
    });
  }

  private async write(): Promise<void> {
    const db = await this.open();
    if (!db || this.closed) return;
    const w = this.pending;
    this.pending = noWrites();
    await this.withRoom(db, () => this.apply(db, w));
    this.fetchThumbnailsSoon();
  }

  /** The queued writes `w`, then the budget; may run twice (after making room), to the same end. */
  private async apply(db: IDBDatabase, w: PendingWrites): Promise<void> {
    let wroteConversations = false;
    const ids = new Set([...w.histories.keys(), ...w.fetched.keys(), ...w.updated.keys()]);
    if (ids.size) {
      await this.change(db, ['conversations', 'meta'], (tx, next, guard) => {
        const store = tx.objectStore('conversations');
        for (const id of ids) {
          const req = store.get(id);
          req.onsuccess = guard(() => {
            const record = req.result as ConversationRecord | undefined;
            const messages = this.nextConversation(next, id, record?.messages ?? [], w);
            if (!messages) return;
            wroteConversations = true;
            store.put({ channel_id: id, messages } satisfies ConversationRecord);
          });
        }
        // Requests complete in order: this one's callback runs after every read above, so the
        // index written in the same transaction describes what it wrote.
        const last = tx.objectStore('meta').count();
        last.onsuccess = guard(() => this.putIndex(tx.objectStore('meta'), next));
      });
    }

    if (w.people) this.people = w.people;
    const channels = w.meta.get('channels') as Channel[] | undefined;
    if (channels) this.channels = channels;
    if (w.meta.size || w.people || wroteConversations || w.fresh) {
      const people = this.people;
      await this.change(db, ['meta'], (tx, next) => {
        const store = tx.objectStore('meta');
        for (const [key, value] of w.meta) this.putMeta(store, next, key, value);
        if (people) this.putMeta(store, next, 'people', this.neededPeople(next, people, this.channels));
        if (w.fresh) this.putMeta(store, next, 'saved_at', Date.now());
      });
    }
    if (channels) {
      // Left or removed from a conversation: its copy goes too.
      const open = new Set(channels.map((c) => c.id));
      const gone = [...this.index.summaries.keys()].filter((id) => !open.has(id));
      await this.remove(db, gone, []);
    }
    await this.enforce(db);
  }

  /** A conversation's messages after the queued writes (its summary set in `next`), or null for none. */
  private nextConversation(next: CacheIndex, id: number, saved: Message[], w: PendingWrites): Message[] | null {
    const before = next.summaries.get(id);
    let messages = saved;
    let activeAt = before?.active_at ?? 0;
    let syncedSeq = before?.synced_seq ?? 0;
    const fetched = w.fetched.get(id);
    if (fetched) {
      messages = fetched.messages.slice(-this.budget.messages);
      syncedSeq = fetched.syncedSeq;
    }
    const loaded = w.histories.get(id);
    if (loaded) {
      const merged = mergeSavedHistory(messages, loaded.history, this.budget.messages);
      if (merged) {
        messages = merged;
        syncedSeq = Math.max(syncedSeq, loaded.syncedSeq);
      }
      activeAt = Math.max(activeAt, loaded.activeAt);
    }
    const updates = w.updated.get(id);
    if (updates) messages = messages.map((m) => updates.get(m.id) ?? m);
    if (!before && !messages.length) return null;
    const last = messages[messages.length - 1];
    next.summaries.set(id, {
      channel_id: id,
      active_at: Math.max(activeAt, last?.created_at ?? 0),
      bytes: estimateBytes(messages),
      last_seq: last?.seq ?? 0,
      synced_seq: Math.max(syncedSeq, last?.seq ?? 0),
      images: imagesOf(messages).map(({ file, at }) => ({ file_id: file.id, url: file.thumb_url!, at })),
      people: peopleOf(messages),
    });
    return messages;
  }

  private putIndex(store: IDBObjectStore, next: CacheIndex): void {
    const record: IndexRecord = { conversations: [...next.summaries.values()], thumbs: [...next.thumbs.values()] };
    this.putMeta(store, next, 'index', record);
  }

  private putMeta(store: IDBObjectStore, next: CacheIndex, key: MetaKey, value: unknown): void {
    const bytes = estimateBytes(value);
    store.put({ value, bytes } satisfies MetaRecord<unknown>, key);
    next.metaBytes.set(key, bytes);
  }

  /** Everyone in the sidebar's direct conversations and in the saved messages, and the user. */
  private neededPeople(index: CacheIndex, all: ReadonlyMap<number, Person>, channels: readonly Channel[]): Person[] {
    const ids = new Set<number>([this.userId]);
    for (const c of channels) if (isDirect(c)) for (const id of c.member_ids) ids.add(id);
    for (const s of index.summaries.values()) for (const id of s.people) ids.add(id);
    const out: Person[] = [];
    for (const id of ids) {
      const p = all.get(id);
      // Nobody's presence is known while reading offline.
      if (p) out.push({ ...p, presence: 'offline' });
    }
    return out;
  }

  private remove(db: IDBDatabase, conversations: readonly number[], thumbs: readonly string[]): Promise<void> {
    if (!conversations.length && !thumbs.length) return Promise.resolve();
    return this.change(db, ['conversations', 'thumbs', 'meta'], (tx, next) => {
      const dropThumbs = new Set(thumbs);
      for (const id of conversations) {
        tx.objectStore('conversations').delete(id);
        next.summaries.delete(id);
        for (const t of next.thumbs.values()) if (t.channel_id === id) dropThumbs.add(t.file_id);
      }
      for (const id of dropThumbs) {
        tx.objectStore('thumbs').delete(id);
        next.thumbs.delete(id);
      }
      this.putIndex(tx.objectStore('meta'), next);
    });
  }

  private static referencedFiles(index: CacheIndex): Set<string> {
    const ids = new Set<string>();
    for (const s of index.summaries.values()) for (const i of s.images) ids.add(i.file_id);
    return ids;
  }

  /** Whether a saved message of `channelId` still shows the file (its thumbnail is wanted). */
  private stillWanted(channelId: number, fileId: string): boolean {
    return this.index.summaries.get(channelId)?.images.some((i) => i.file_id === fileId) ?? false;
  }

  private bytesKept(): number {
    const { summaries, thumbs, metaBytes } = this.index;
    let total = 0;
    for (const s of summaries.values()) total += s.bytes;
    for (const t of thumbs.values()) total += t.bytes;
    for (const b of metaBytes.values()) total += b;
    return total;
  }

  private async enforce(db: IDBDatabase): Promise<void> {
    const { summaries, thumbs, metaBytes } = this.index;
    const plan = planEviction(
      [...summaries.values()],
      [...thumbs.values()],
      [...metaBytes.values()].reduce((n, b) => n + b, 0),
      this.limit,
      OfflineCache.referencedFiles(this.index),
    );
    await this.remove(db, plan.conversations, plan.thumbs);
  }

  private thumbLoop: Promise<void> | null = null;

  /** Fetches the missing thumbnails in the background (one loop at a time, beside the writes). */
  private fetchThumbnailsSoon(): void {
    if (this.thumbLoop || this.closed) return;
    this.thumbLoop = this.fetchThumbnails()
      .catch(() => {})
      .finally(() => {
        this.thumbLoop = null;
      });
  }

  /** The missing thumbnails of the saved conversations, newest first, one at a time. */
  private async fetchThumbnails(): Promise<void> {
    const db = await this.open();
    if (!db) return;
    const wanted: { file_id: string; url: string; at: number; channel_id: number }[] = [];
    for (const s of this.index.summaries.values()) {
      for (const i of s.images) {
        if (!this.index.thumbs.has(i.file_id) && !this.skippedThumbs.has(i.file_id)) wanted.push({ ...i, channel_id: s.channel_id });
      }
    }
    wanted.sort((a, b) => b.at - a.at);
    let added = 0;
    for (const w of wanted) {
      if (this.closed) return;
      // The list was made before the earlier fetches: the conversation may have gone since
      // (left, refreshed, evicted), and nothing it no longer shows is worth a request.
      if (!this.stillWanted(w.channel_id, w.file_id) || this.index.thumbs.has(w.file_id)) continue;
      // Past the thumbnails' share, one older than every kept thumbnail would go again at once.
      const kept = [...this.index.thumbs.values()];
      const bytes = kept.reduce((n, t) => n + t.bytes, 0);
      if (bytes >= this.limit.thumbBytes && kept.every((t) => t.message_at >= w.at)) break;
      let blob: Blob | null;
      try {
        blob = await this.fetchThumb(w.url);
      } catch {
        break; // the server is gone again: the next write tries
      }
      if (this.closed) return;
      if (!blob || blob.size > this.limit.thumbMaxBytes) {
        this.skippedThumbs.add(w.file_id);
        continue;
      }
      const entry: ThumbEntry = { file_id: w.file_id, channel_id: w.channel_id, message_at: w.at, bytes: blob.size };
      const record: ThumbRecord = { ...entry, blob };
      const stored = await this.exclusive(async () => {
        // Writes ran while it was fetched.
        if (this.closed || !this.stillWanted(w.channel_id, w.file_id)) return false;
        await this.withRoom(db, () =>
          this.change(db, ['thumbs', 'meta'], (tx, next) => {
            tx.objectStore('thumbs').put(record);
            next.thumbs.set(w.file_id, entry);
            this.putIndex(tx.objectStore('meta'), next);
          }),
        );
        return true;
      });
      if (stored) added++;
      if (stored && added % 8 === 0) await this.exclusive(() => this.enforce(db));
    }
    if (added) await this.exclusive(() => this.enforce(db));
  }

  /** Resolves once the queued writes and thumbnail fetches are done. */
  async settled(): Promise<void> {
    await this.flush();
    while (this.thumbLoop) await this.thumbLoop;
    await this.writing;
  }

  // ---- reading ----

  /** The saved messages of a conversation (oldest first), or null when none are saved. */
  async conversation(channelId: number): Promise<Message[] | null> {
    const db = await this.open();
    if (!db) return null;
    const record = (await done(db.transaction('conversations').objectStore('conversations').get(channelId))) as
      | ConversationRecord
      | undefined;
    return record?.messages.length ? record.messages : null;
  }

  /** A saved thumbnail, or null. */
  async thumbnail(fileId: string): Promise<Blob | null> {
    const db = await this.open();
    if (!db) return null;
    const record = (await done(db.transaction('thumbs').objectStore('thumbs').get(fileId))) as ThumbRecord | undefined;
    return record?.blob ?? null;
  }

  /** Estimated bytes kept now, in all and of thumbnails (for tests and the budget's checks). */
  async usage(): Promise<{ total: number; thumbs: number; conversations: number }> {
    await this.open();
    await this.settled();
    const thumbs = [...this.index.thumbs.values()].reduce((n, t) => n + t.bytes, 0);
    return { total: this.bytesKept(), thumbs, conversations: this.index.summaries.size };
  }

  /**
   * The channels to refresh after connecting: those whose saved copy is behind the server's
   * (`last_seq`), or with `all` every saved one (what changed without new messages, such as
   * deletions, edits or expired messages, shows only in a fresh page); and unread ones not saved.
   */
  staleChannels(channels: Iterable<Channel>, all = false): Channel[] {
    const out: Channel[] = [];
    const summaries = this.index.summaries;
    for (const c of channels) {
      const s = summaries.get(c.id);
      if (s ? all || s.synced_seq < c.last_seq : c.unread > 0) out.push(c);
    }
    // Saved and recently active first, then unread ones not saved yet.
    return out.sort((a, b) => {
      const sa = summaries.get(a.id);
      const sb = summaries.get(b.id);
      if (sa && sb) return sb.active_at - sa.active_at;
      if (sa || sb) return sa ? -1 : 1;
      return b.unread - a.unread || b.last_seq - a.last_seq;
    });
  }

  // ---- following a chat client ----

  /**
   * Writes through what `client` loads and receives, and gives it the saved histories to show
   * while the server cannot be reached. Returns the function that stops it.
   */
  attach(client: ChatClient): () => void {
    let prev: ChatState = client.state;
    let refresh: ReturnType<typeof setTimeout> | null = null;
    let refreshing = false;
    /** Set on each (re)connection; the refresh runs once the channel list is in. */
    let wantRefresh = client.state.connection !== 'connected';
    /**
     * Every saved conversation is fetched again, not only those with new messages: at the first
     * connection of the page (the copy may be days old) and after a resync (events were lost).
     */
    let refreshAll = true;
    const stale = new Set<number>();

    const scheduleRefresh = (delay: number) => {
      if (refresh || this.closed) return;
      refresh = setTimeout(() => {
        refresh = null;
        void runRefresh();
      }, delay);
    };
    const runRefresh = async () => {
      if (refreshing) return;
      refreshing = true;
      const all = refreshAll;
      refreshAll = false;
      let finished = false;
      try {
        const s = client.state;
        const channels = [...s.channels.values()].filter((c) => (all || stale.has(c.id)) && !c.archived);
        stale.clear();
        for (const c of this.staleChannels(channels, all).slice(0, this.budget.conversations)) {
          const now = client.state;
          if (this.closed || now.connection !== 'connected' || now.cached) return;
          const h = now.histories.get(c.id);
          // On screen already: written through as it changes.
          if (h && !h.hasNewer && !h.loading) continue;
          const lastSeq = now.channels.get(c.id)?.last_seq ?? c.last_seq;
          let messages: Message[];
          try {
            messages = await chatApi.messages(c.id, { limit: this.budget.messages });
          } catch (err) {
            // The server is gone again: the next connection refreshes. A refusal (a channel
            // left meanwhile answers 404) concerns that channel alone.
            if (err instanceof NetworkError) return;
            continue;
          }
          this.saveLatest(c.id, messages, lastSeq);
        }
        finished = true;
      } finally {
        refreshing = false;
        // Cut short: the conversations not reached yet are still as old.
        if (!finished && all) refreshAll = true;
      }
    };

    const onChange = () => {
      const s = client.state;
      const before = prev;
      prev = s;
      if (this.closed) return;
      if (s.connection !== 'connected') wantRefresh = true;
      // The server accepted the session for the socket: it is still valid.
      if (s.connection === 'connected' && before.connection !== 'connected') this.saveVerified();
      // Going offline: what was kept matched the server until now.
      if (before.connection === 'connected' && s.connection !== 'connected' && !s.cached) this.saveSyncedNow();
      // What is on screen came from here: nothing new to keep until the server answers.
      if (s.cached || !s.ready) return;
      if (s.channels !== before.channels || before.cached) this.saveChannels([...s.channels.values()]);
      if (s.people !== before.people || before.cached) this.savePeople(s.people);
      if (s.preferences && s.preferences !== before.preferences) this.savePreferences(s.preferences);
      if (s.histories !== before.histories) {
        for (const [id, h] of s.histories) {
          if (before.histories.get(id) === h || before.cached) continue;
          const channel = s.channels.get(id);
          this.saveHistory(id, h, id === client.current ? Date.now() : 0, h.hasNewer ? 0 : (channel?.last_seq ?? 0));
        }
      }
      if (wantRefresh && s.connection === 'connected') {
        wantRefresh = false;
        for (const c of s.channels.values()) stale.add(c.id);
        // Not all at once after a server restart: every client reconnects at the same moment.
        scheduleRefresh(3000 + Math.random() * 7000);
      }
    };
    const unsubscribe = client.store.subscribe(onChange);
    const unlisten = client.addFrameListener((frame) => {
      if (this.closed) return;
      if (frame.type === 'ready' && frame.resync === true) refreshAll = true;
      if (frame.type !== 'event') return;
      const event = frame.event as { kind?: string; message?: Message } | undefined;
      const m = event?.message;
      if (!m || typeof m.channel_id !== 'number') return;
      if (event.kind === 'message.updated') this.saveUpdated(m);
      else if (event.kind === 'message.new' && this.index.summaries.has(m.channel_id) && !client.state.histories.has(m.channel_id)) {
        // A saved conversation not open here moved on: fetch it in a while, with whatever follows.
        stale.add(m.channel_id);
        scheduleRefresh(20_000);
      }
    });
    client.savedHistory = (channelId) => this.conversation(channelId).catch(() => null);
    const onHide = () => {
      const s = client.state;
      if (s.connection === 'connected' && !s.cached) this.saveSyncedNow();
      void this.flush();
    };
    if (typeof window !== 'undefined') window.addEventListener('pagehide', onHide);
    onChange();
    return () => {
      unsubscribe();
      unlisten();
      if (refresh) clearTimeout(refresh);
      if (client.savedHistory) client.savedHistory = null;
      if (typeof window !== 'undefined') window.removeEventListener('pagehide', onHide);
    };
  }
}

// ---- the signed-in user's copy ----------------------------------------------------------------

let active: OfflineCache | null = null;

/** The copy of `userId` (one per page; another user's is closed). */
export function openOfflineCache(userId: number, options?: OfflineCacheOptions): OfflineCache {
  if (active && active.userId === userId && !active.isClosed) return active;
  active?.close();
  active = new OfflineCache(userId, options);
  return active;
}

/** Remembers who is signed in here, for opening their copy when the server cannot answer. */
export function rememberSignedInUser(userId: number): void {
  allowUserData(userId);
  try {
    localStore()?.setItem(LAST_USER_KEY, String(userId));
  } catch {
    // Storage refused: nothing to open offline then.
  }
}

export function lastSignedInUser(): number | null {
  try {
    const id = Number(localStore()?.getItem(LAST_USER_KEY));
    return Number.isInteger(id) && id > 0 ? id : null;
  } catch {
    return null;
  }
}

/**
 * What the last signed-in user's copy holds to open the app, or null when there is none. A
 * copy older than the server's session lifetime (counted from the last time the server
 * confirmed the session) is not opened but erased: its session is over on the server too.
 */
export async function readOfflineSnapshot(idb: IDBFactory | null = defaultFactory(), now: number = Date.now()): Promise<OfflineSnapshot | null> {
  const userId = lastSignedInUser();
  if (userId === null || !idb) return null;
  const db = await openDatabase(idb, offlineDbName(userId), false);
  if (!db) return null;
  let expired = false;
  try {
    const store = db.transaction('meta').objectStore('meta');
    const get = <T>(key: MetaKey) => done(store.get(key)).then((r) => (r as MetaRecord<T> | undefined)?.value ?? null);
    const [me, preferences, channels, people, verifiedAt, idleDays, savedAt] = await Promise.all([
      get<User>('me'),
      get<Preferences>('preferences'),
      get<Channel[]>('channels'),
      get<Person[]>('people'),
      get<number>('verified_at'),
      get<number>('session_idle_days'),
      get<number>('saved_at'),
    ]);
    if (!me || me.id !== userId || !channels) return null;
    if (!copyUsable(verifiedAt, idleDays, now)) {
      expired = true;
      return null;
    }
    return { me, preferences, channels, people: people ?? [], savedAt: typeof savedAt === 'number' ? savedAt : null };
  } catch {
    return null;
  } finally {
    db.close();
    // After closing it: an open connection would hold the deletion up.
    if (expired) await eraseOfflineData(userId, idb);
  }
}

/**
 * Deletes what this device keeps of `userId`: their copy, the marker naming them, and their
 * keys in localStorage (outbox, drafts, positions). Resolves once deleted, or after `timeoutMs`
 * when another tab still holds the copy open (it lets go when asked).
 */
export function eraseOfflineData(userId: number, idb: IDBFactory | null = defaultFactory(), timeoutMs = 2000): Promise<void> {
  if (active?.userId === userId) {
    active.close();
    active = null;
  }
  eraseUserData(userId);
  try {
    const store = localStore();
    if (store?.getItem(LAST_USER_KEY) === String(userId)) store.removeItem(LAST_USER_KEY);
  } catch {
    // nothing to remove
  }
  if (!idb) return Promise.resolve();
  return deleteDatabase(idb, offlineDbName(userId), timeoutMs);
}

/**
 * The session ended without knowing whose it was (a 401): whoever used this browser, nobody is
 * signed in now, so every copy and everyone's local data goes (not only the marker's user: the
 * marker may name someone else, or be gone while a copy is not).
 */
export async function forgetSignedInUser(idb: IDBFactory | null = defaultFactory(), timeoutMs = 2000): Promise<void> {
  const users = new Set(eraseUserKeys());
  const last = lastSignedInUser();
  if (last !== null) users.add(last);
  for (const id of idb ? ((await usersWithCopies(idb)) ?? []) : []) users.add(id);
  if (active) users.add(active.userId);
  await Promise.all([...users].map((id) => eraseOfflineData(id, idb, timeoutMs)));
  try {
    localStore()?.removeItem(LAST_USER_KEY);
  } catch {
    // nothing to remove
  }
}

/**
 * Someone else signed in on this browser: copies and local data of anyone else are not theirs
 * to read (the earlier session's cookie is gone), so they go.
 */
export async function eraseOtherUsers(userId: number, idb: IDBFactory | null = defaultFactory()): Promise<void> {
  const others = new Set(eraseUserKeys((id) => id !== userId));
  for (const id of idb ? ((await usersWithCopies(idb)) ?? []) : []) if (id !== userId) others.add(id);
  for (const id of others) await eraseOfflineData(id, idb);
}

// ---- thumbnails on screen -----------------------------------------------------------------

/**
 * The saved thumbnail of `file` as an object URL while `wanted` (the app shows the saved copy,
 * or the server's image failed to load): undefined while it is being read, null when none is
 * saved. The URL is revoked when no longer shown.
 */
export function useSavedThumbnail(file: FileView, wanted: boolean): string | null | undefined {
  const [url, setUrl] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    if (!wanted || !active || typeof URL.createObjectURL !== 'function') {
      setUrl(null);
      return;
    }
    let cancelled = false;
    let made: string | null = null;
    setUrl(undefined);
    active.thumbnail(file.id).then(
      (blob) => {
        if (cancelled) return;
        made = blob ? URL.createObjectURL(blob) : null;
        setUrl(made);
      },
      () => {
        if (!cancelled) setUrl(null);
      },
    );
    return () => {
      cancelled = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [file.id, wanted]);
  return wanted ? url : null;
}
