// Reading without the server (issue #21): the device keeps its own copy of the signed-in
// user's recent conversations in IndexedDB, so the app opens and shows them while the
// server cannot be reached. One database per user (`outpost-offline-<id>`); signing out,
// or the server saying the session ended, deletes it.
//
// What is kept: the user (`me`) and their preferences, the channel list (the sidebar), the
// people those conversations need (names, initials), and for the most recently active
// conversations their latest messages, with the photo thumbnails of those messages as Blobs.
// It is written behind the app (batched, never before anything renders) from what the chat
// client already loaded and from the live events, and refreshed in the background after each
// (re)connection for the conversations that moved on meanwhile.
//
// The storage budget, per user and device (OFFLINE_BUDGET):
//   - 30 conversations (the most recently active), each with its last 200 messages;
//   - 25 MiB in all, of which photo thumbnails take at most 15 MiB (none over 512 KiB).
// Sizes are estimates: 2 bytes per character of a record's JSON text (what a browser may
// keep for non-Latin text), and Blob.size for thumbnails. After every write the budget is
// enforced: conversations past the 30 most recent go first, then the oldest thumbnails until
// they fit their share, then, while the whole is still over, the least recently active
// conversations with their thumbnails.

import { useEffect, useState } from 'preact/hooks';
import { chatApi, NetworkError, type Channel, type FileView, type Message, type Person, type Preferences, type User } from '../api';
import type { ChatClient, ChatState, History } from './client';
import { isDirect } from './logic';

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
  const first = items[0]!.seq;
  const lastSaved = saved.length ? saved[saved.length - 1]!.seq : -Infinity;
  const merged = history.hasOlder && first <= lastSaved ? [...saved.filter((m) => m.seq < first), ...items] : [...items];
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

type MetaKey = 'me' | 'preferences' | 'channels' | 'people' | 'index';

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
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
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
  /** Fetched from the server: the latest messages (`replace`), or those after the saved ones (`append`). */
  fetched: Map<number, { messages: Message[]; syncedSeq: number; append: boolean }>;
  updated: Map<number, Map<number, Message>>;
}

function noWrites(): PendingWrites {
  return { meta: new Map(), people: null, histories: new Map(), fetched: new Map(), updated: new Map() };
}

export interface OfflineCacheOptions {
  idb?: IDBFactory | null;
  budget?: OfflineBudget;
  fetchThumb?: ThumbFetcher;
  /** Delay of batched writes (tests pass 0 and call `flush`). */
  writeDelayMs?: number;
}

export class OfflineCache {
  readonly budget: OfflineBudget;
  private readonly idb: IDBFactory | null;
  private readonly fetchThumb: ThumbFetcher;
  private readonly writeDelayMs: number;
  private db: Promise<IDBDatabase | null> | null = null;
  private closed = false;
  private summaries = new Map<number, ConversationSummary>();
  private thumbs = new Map<string, ThumbEntry>();
  private metaBytes = new Map<MetaKey, number>();
  private pending = noWrites();
  private writeTimer: ReturnType<typeof setTimeout> | null = null;
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
        keys.forEach((key, i) => {
          const record = values[i] as MetaRecord<unknown>;
          this.metaBytes.set(key as MetaKey, record.bytes ?? 0);
          if (key !== 'index') return;
          const index = record.value as IndexRecord;
          for (const c of index.conversations ?? []) this.summaries.set(c.channel_id, c);
          for (const t of index.thumbs ?? []) this.thumbs.set(t.file_id, t);
        });
        await this.reconcile(db);
      } catch {
        // An unreadable index: the data is rewritten as it comes.
      }
      return db;
    });
    return this.db;
  }

  /**
   * Two tabs each write the index from what they know, so the last one may leave out a record
   * the other wrote. The budget only counts indexed records: unindexed ones go, and so do index
   * entries without a record.
   */
  private async reconcile(db: IDBDatabase): Promise<void> {
    const tx = db.transaction(['conversations', 'thumbs', 'meta'], 'readwrite');
    const [conversations, thumbs] = await Promise.all([
      done(tx.objectStore('conversations').getAllKeys()),
      done(tx.objectStore('thumbs').getAllKeys()),
    ]);
    const stored = new Set(conversations.map(Number));
    const storedThumbs = new Set(thumbs.map(String));
    let changed = false;
    for (const key of conversations) {
      if (this.summaries.has(Number(key))) continue;
      tx.objectStore('conversations').delete(key);
    }
    for (const key of thumbs) {
      if (this.thumbs.has(String(key))) continue;
      tx.objectStore('thumbs').delete(key);
    }
    for (const id of [...this.summaries.keys()]) {
      if (stored.has(id)) continue;
      this.summaries.delete(id);
      changed = true;
    }
    for (const id of [...this.thumbs.keys()]) {
      if (storedThumbs.has(id)) continue;
      this.thumbs.delete(id);
      changed = true;
    }
    if (changed) this.putMeta(tx.objectStore('meta'), 'index', this.indexRecord());
    await committed(tx);
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
    this.queueMeta('me', user);
  }

  savePreferences(prefs: Preferences): void {
    this.queueMeta('preferences', prefs);
  }

  saveChannels(channels: readonly Channel[]): void {
    this.queueMeta('channels', [...channels]);
  }

  /** The people list; only those the saved conversations and the sidebar need are kept. */
  savePeople(people: ReadonlyMap<number, Person>): void {
    if (this.closed) return;
    this.pending.people = people;
    this.schedule();
  }

  /** A conversation's loaded history (`activeAt`: when it was last seen open, or 0). */
  saveHistory(channelId: number, history: History, activeAt = 0, syncedSeq = 0): void {
    if (this.closed) return;
    this.pending.histories.set(channelId, { history, activeAt, syncedSeq });
    this.schedule();
  }

  /** The latest messages of a conversation as the server answered (they replace the saved ones). */
  saveLatest(channelId: number, messages: readonly Message[], syncedSeq: number): void {
    if (this.closed) return;
    this.pending.histories.delete(channelId);
    this.pending.fetched.set(channelId, { messages: [...messages], syncedSeq, append: false });
    this.schedule();
  }

  /** The messages after the saved ones, as the server answered (all of them, up to `syncedSeq`). */
  saveNewer(channelId: number, messages: readonly Message[], syncedSeq: number): void {
    if (this.closed || this.pending.fetched.has(channelId)) return;
    this.pending.fetched.set(channelId, { messages: [...messages], syncedSeq, append: true });
    this.schedule();
  }

  /** A message changed (edited, deleted, reacted to): the saved copy follows. */
  saveUpdated(message: Message): void {
    if (this.closed || !this.summaries.has(message.channel_id)) return;
    const map = this.pending.updated.get(message.channel_id) ?? new Map<number, Message>();
    map.set(message.id, message);
    this.pending.updated.set(message.channel_id, map);
    this.schedule();
  }

  private queueMeta(key: MetaKey, value: unknown): void {
    if (this.closed) return;
    this.pending.meta.set(key, value);
    this.schedule();
  }

  private schedule(): void {
    if (this.writeTimer || this.closed) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = null;
      void this.flush();
    }, this.writeDelayMs);
  }

  /** Writes what is queued now (one write at a time, in order). */
  flush(): Promise<void> {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    this.writing = this.writing.then(() => this.write()).catch(() => {
      // Storage refused (quota, private mode): reading offline is a nicety, the app goes on.
    });
    return this.writing;
  }

  private async write(): Promise<void> {
    const db = await this.open();
    if (!db || this.closed) return;
    const w = this.pending;
    this.pending = noWrites();
    let wroteConversations = false;

    const ids = new Set([...w.histories.keys(), ...w.fetched.keys(), ...w.updated.keys()]);
    if (ids.size) {
      const tx = db.transaction(['conversations', 'meta'], 'readwrite');
      const store = tx.objectStore('conversations');
      for (const id of ids) {
        const req = store.get(id);
        req.onsuccess = () => {
          const record = req.result as ConversationRecord | undefined;
          const next = this.nextConversation(id, record?.messages ?? [], w);
          if (!next) return;
          wroteConversations = true;
          store.put({ channel_id: id, messages: next } satisfies ConversationRecord);
        };
      }
      // Requests complete in order: this one's callback runs after every read above, so the
      // index written in the same transaction describes what it wrote.
      const last = tx.objectStore('meta').count();
      last.onsuccess = () => this.putMeta(tx.objectStore('meta'), 'index', this.indexRecord());
      await committed(tx);
    }

    if (w.people) this.people = w.people;
    const channels = w.meta.get('channels') as Channel[] | undefined;
    if (channels) this.channels = channels;
    if (w.meta.size || w.people || wroteConversations) {
      const tx = db.transaction('meta', 'readwrite');
      const store = tx.objectStore('meta');
      for (const [key, value] of w.meta) this.putMeta(store, key, value);
      if (this.people) this.putMeta(store, 'people', this.neededPeople(this.people, this.channels));
      await committed(tx);
    }
    if (channels) {
      // Left or removed from a conversation: its copy goes too.
      const open = new Set(channels.map((c) => c.id));
      const gone = [...this.summaries.keys()].filter((id) => !open.has(id));
      await this.remove(db, gone, []);
    }
    await this.enforce(db);
    this.fetchThumbnailsSoon();
  }

  /** A conversation's messages after the queued writes (and its summary updated), or null for none. */
  private nextConversation(id: number, saved: Message[], w: PendingWrites): Message[] | null {
    const before = this.summaries.get(id);
    let messages = saved;
    let activeAt = before?.active_at ?? 0;
    let syncedSeq = before?.synced_seq ?? 0;
    const fetched = w.fetched.get(id);
    if (fetched) {
      const lastSaved = messages.length ? messages[messages.length - 1]!.seq : -Infinity;
      messages = fetched.append ? [...messages, ...fetched.messages.filter((m) => m.seq > lastSaved)] : fetched.messages;
      messages = messages.slice(-this.budget.messages);
      syncedSeq = Math.max(syncedSeq, fetched.syncedSeq);
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
    this.summaries.set(id, {
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

  private indexRecord(): IndexRecord {
    return { conversations: [...this.summaries.values()], thumbs: [...this.thumbs.values()] };
  }

  private putMeta(store: IDBObjectStore, key: MetaKey, value: unknown): void {
    const bytes = estimateBytes(value);
    this.metaBytes.set(key, bytes);
    store.put({ value, bytes } satisfies MetaRecord<unknown>, key);
  }

  /** Everyone in the sidebar's direct conversations and in the saved messages, and the user. */
  private neededPeople(all: ReadonlyMap<number, Person>, channels: readonly Channel[]): Person[] {
    const ids = new Set<number>([this.userId]);
    for (const c of channels) if (isDirect(c)) for (const id of c.member_ids) ids.add(id);
    for (const s of this.summaries.values()) for (const id of s.people) ids.add(id);
    const out: Person[] = [];
    for (const id of ids) {
      const p = all.get(id);
      // Nobody's presence is known while reading offline.
      if (p) out.push({ ...p, presence: 'offline' });
    }
    return out;
  }

  private async remove(db: IDBDatabase, conversations: readonly number[], thumbs: readonly string[]): Promise<void> {
    if (!conversations.length && !thumbs.length) return;
    const tx = db.transaction(['conversations', 'thumbs', 'meta'], 'readwrite');
    const dropThumbs = new Set(thumbs);
    for (const id of conversations) {
      tx.objectStore('conversations').delete(id);
      this.summaries.delete(id);
      for (const t of this.thumbs.values()) if (t.channel_id === id) dropThumbs.add(t.file_id);
    }
    for (const id of dropThumbs) {
      tx.objectStore('thumbs').delete(id);
      this.thumbs.delete(id);
    }
    this.putMeta(tx.objectStore('meta'), 'index', this.indexRecord());
    await committed(tx);
  }

  private referencedFiles(): Set<string> {
    const ids = new Set<string>();
    for (const s of this.summaries.values()) for (const i of s.images) ids.add(i.file_id);
    return ids;
  }

  private metaTotal(): number {
    return [...this.metaBytes.values()].reduce((n, b) => n + b, 0);
  }

  private async enforce(db: IDBDatabase): Promise<void> {
    const plan = planEviction(
      [...this.summaries.values()],
      [...this.thumbs.values()],
      this.metaTotal(),
      this.budget,
      this.referencedFiles(),
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
    for (const s of this.summaries.values()) {
      for (const i of s.images) {
        if (!this.thumbs.has(i.file_id) && !this.skippedThumbs.has(i.file_id)) wanted.push({ ...i, channel_id: s.channel_id });
      }
    }
    wanted.sort((a, b) => b.at - a.at);
    let added = 0;
    for (const w of wanted) {
      if (this.closed) return;
      // Past the thumbnails' share, one older than every kept thumbnail would go again at once.
      const kept = [...this.thumbs.values()];
      const bytes = kept.reduce((n, t) => n + t.bytes, 0);
      if (bytes >= this.budget.thumbBytes && kept.every((t) => t.message_at >= w.at)) break;
      let blob: Blob | null;
      try {
        blob = await this.fetchThumb(w.url);
      } catch {
        break; // the server is gone again: the next write tries
      }
      if (this.closed) return;
      if (!blob || blob.size > this.budget.thumbMaxBytes) {
        this.skippedThumbs.add(w.file_id);
        continue;
      }
      if (!this.referencedFiles().has(w.file_id)) continue;
      const entry: ThumbEntry = { file_id: w.file_id, channel_id: w.channel_id, message_at: w.at, bytes: blob.size };
      const tx = db.transaction(['thumbs', 'meta'], 'readwrite');
      tx.objectStore('thumbs').put({ ...entry, blob } satisfies ThumbRecord);
      this.thumbs.set(w.file_id, entry);
      this.putMeta(tx.objectStore('meta'), 'index', this.indexRecord());
      await committed(tx);
      added++;
      if (added % 8 === 0) await this.enforce(db);
    }
    if (added) await this.enforce(db);
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
    const thumbs = [...this.thumbs.values()].reduce((n, t) => n + t.bytes, 0);
    const messages = [...this.summaries.values()].reduce((n, c) => n + c.bytes, 0);
    return { total: thumbs + messages + this.metaTotal(), thumbs, conversations: this.summaries.size };
  }

  /** The channels whose saved copy is behind the server's (`last_seq`), for the refresh after connecting. */
  staleChannels(channels: Iterable<Channel>): Channel[] {
    const out: Channel[] = [];
    for (const c of channels) {
      const s = this.summaries.get(c.id);
      if (s ? s.synced_seq < c.last_seq : c.unread > 0) out.push(c);
    }
    // Saved and recently active first, then unread ones not saved yet.
    return out.sort((a, b) => {
      const sa = this.summaries.get(a.id);
      const sb = this.summaries.get(b.id);
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
      try {
        const s = client.state;
        const channels = [...s.channels.values()].filter((c) => stale.has(c.id) && !c.archived);
        stale.clear();
        for (const c of this.staleChannels(channels).slice(0, this.budget.conversations)) {
          const now = client.state;
          if (this.closed || now.connection !== 'connected' || now.cached) return;
          const h = now.histories.get(c.id);
          // On screen already: written through as it changes.
          if (h && !h.hasNewer && !h.loading) continue;
          const lastSeq = now.channels.get(c.id)?.last_seq ?? c.last_seq;
          const saved = this.summaries.get(c.id);
          const limit = this.budget.messages;
          let messages: Message[];
          try {
            if (saved) {
              const after = await chatApi.messages(c.id, { after: saved.last_seq, limit });
              if (after.length < limit) {
                this.saveNewer(c.id, after, lastSeq);
                continue;
              }
            }
            // Not saved yet, or more than a page behind: the latest messages replace the copy.
            messages = await chatApi.messages(c.id, { limit });
          } catch {
            return;
          }
          this.saveLatest(c.id, messages, lastSeq);
        }
      } finally {
        refreshing = false;
      }
    };

    const onChange = () => {
      const s = client.state;
      const before = prev;
      prev = s;
      if (this.closed) return;
      if (s.connection !== 'connected') wantRefresh = true;
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
      if (frame.type !== 'event' || this.closed) return;
      const event = frame.event as { kind?: string; message?: Message } | undefined;
      const m = event?.message;
      if (!m || typeof m.channel_id !== 'number') return;
      if (event.kind === 'message.updated') this.saveUpdated(m);
      else if (event.kind === 'message.new' && this.summaries.has(m.channel_id) && !client.state.histories.has(m.channel_id)) {
        // A saved conversation not open here moved on: fetch it in a while, with whatever follows.
        stale.add(m.channel_id);
        scheduleRefresh(20_000);
      }
    });
    client.savedHistory = (channelId) => this.conversation(channelId).catch(() => null);
    const onHide = () => void this.flush();
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

/** What the last signed-in user's copy holds to open the app, or null when there is none. */
export async function readOfflineSnapshot(idb: IDBFactory | null = defaultFactory()): Promise<OfflineSnapshot | null> {
  const userId = lastSignedInUser();
  if (userId === null || !idb) return null;
  const db = await openDatabase(idb, offlineDbName(userId), false);
  if (!db) return null;
  try {
    const store = db.transaction('meta').objectStore('meta');
    const get = <T>(key: MetaKey) => done(store.get(key)).then((r) => (r as MetaRecord<T> | undefined)?.value ?? null);
    const [me, preferences, channels, people] = await Promise.all([
      get<User>('me'),
      get<Preferences>('preferences'),
      get<Channel[]>('channels'),
      get<Person[]>('people'),
    ]);
    if (!me || me.id !== userId || !channels) return null;
    return { me, preferences, channels, people: people ?? [] };
  } catch {
    return null;
  } finally {
    db.close();
  }
}

/**
 * Deletes the copy of `userId` and the marker naming them (signing out, session ended).
 * Resolves once deleted, or after `timeoutMs` when another tab still holds it open (the
 * deletion then completes as soon as that tab lets go, which it does when asked).
 */
export function eraseOfflineData(userId: number, idb: IDBFactory | null = defaultFactory(), timeoutMs = 2000): Promise<void> {
  if (active?.userId === userId) {
    active.close();
    active = null;
  }
  try {
    const store = localStore();
    if (store?.getItem(LAST_USER_KEY) === String(userId)) store.removeItem(LAST_USER_KEY);
  } catch {
    // nothing to remove
  }
  if (!idb) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      const req = idb.deleteDatabase(offlineDbName(userId));
      req.onsuccess = finish;
      req.onerror = finish;
    } catch {
      finish();
    }
  });
}

/** The session ended without knowing whose it was (a 401): erases the last user's copy. */
export function forgetSignedInUser(idb: IDBFactory | null = defaultFactory()): Promise<void> {
  const userId = lastSignedInUser();
  if (userId === null) return Promise.resolve();
  return eraseOfflineData(userId, idb);
}

/**
 * Someone else signed in on this browser: copies of anyone else are not theirs to read
 * (the earlier session's cookie is gone), so they go.
 */
export async function eraseOtherUsers(userId: number, idb: IDBFactory | null = defaultFactory()): Promise<void> {
  if (!idb || typeof idb.databases !== 'function') return;
  let list: IDBDatabaseInfo[];
  try {
    list = await idb.databases();
  } catch {
    return;
  }
  for (const info of list) {
    const m = info.name ? new RegExp(`^${DB_PREFIX}(\\d+)$`).exec(info.name) : null;
    if (m && Number(m[1]) !== userId) await eraseOfflineData(Number(m[1]), idb);
  }
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
