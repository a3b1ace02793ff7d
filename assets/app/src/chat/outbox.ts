// The offline outbox: every message the user sends is first written here
// (persisted in localStorage, so it survives a reload) with a client id, then
// sent. It leaves the outbox when the server acknowledges it, or when the
// `message.new` event with the same client id arrives — whichever comes
// first. Resending after a reconnect reuses the client id, so the server
// stores it at most once.

import type { ErrorParams, FileView, Message, QuoteView } from '../api';
import type { KeyValueStore } from './logic';

export type OutboxState = 'pending' | 'sending' | 'failed';

export interface OutboxItem {
  client_id: string;
  channel_id: number;
  thread_root: number | null;
  body: string;
  /** Ids of uploaded files sent with the message (uploads finish before it is queued). */
  attachments?: string[];
  /** Those files, to show the message while it waits. */
  files?: FileView[];
  /** The message of the same conversation it answers. */
  quote_of?: number;
  /** That message's preview, to show while this one waits. */
  quote?: QuoteView;
  /** A thread reply also listed in the channel. */
  also_in_channel?: boolean;
  created_at: number;
  state: OutboxState;
  /**
   * Why sending failed, for `failed` items: the server's error code (translated when shown, in
   * the language of that moment). Items stored by older versions hold the English sentence here.
   */
  error?: string;
  /** The request field the refusal named (`body`, `attachments`, …). */
  error_field?: string;
  /** The values its sentence needs (`max`, …). */
  error_params?: ErrorParams;
}

/** Server error codes after which retrying the same message cannot succeed. */
const PERMANENT = new Set([
  'not-found',
  'forbidden',
  // Older servers: every refused field.
  'invalid',
  'archived',
  'message-too-large',
  'malformed-frame',
  // Newer servers name what is wrong with the message (docs/protocol.md, "Errors").
  'bad-request',
  'too-long',
  'empty-message',
  'too-many-files',
  'bad-thread',
  'bad-quote',
  'not-a-thread-reply',
  'bad-client-id',
  'client-id-used',
  'attachment-unusable',
  'hidden-characters',
  'mixed-script',
  'odd-spacing',
  'insufficient-scope',
]);

export function isPermanentError(code: string): boolean {
  return PERMANENT.has(code);
}

/** A fresh client id: 1–64 of `A-Za-z0-9_-`. */
export function newClientId(random: () => number = Math.random, now: number = Date.now()): string {
  let rand = '';
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const cryptoObj = typeof crypto !== 'undefined' ? crypto : undefined;
  if (cryptoObj?.getRandomValues && random === Math.random) {
    const bytes = cryptoObj.getRandomValues(new Uint8Array(12));
    for (const b of bytes) rand += chars[b % chars.length];
  } else {
    for (let i = 0; i < 12; i++) rand += chars[Math.floor(random() * chars.length)];
  }
  return `c${now.toString(36)}-${rand}`;
}

function isItem(value: unknown): value is OutboxItem {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.client_id === 'string' &&
    /^[A-Za-z0-9_-]{1,64}$/.test(v.client_id) &&
    typeof v.channel_id === 'number' &&
    typeof v.body === 'string' &&
    (v.thread_root === null || typeof v.thread_root === 'number') &&
    typeof v.created_at === 'number' &&
    (v.attachments === undefined ||
      (Array.isArray(v.attachments) && v.attachments.every((a) => typeof a === 'string'))) &&
    (v.files === undefined || Array.isArray(v.files)) &&
    (v.quote_of === undefined || typeof v.quote_of === 'number') &&
    (v.also_in_channel === undefined || typeof v.also_in_channel === 'boolean')
  );
}

export class Outbox {
  private items: OutboxItem[] = [];
  private listeners = new Set<() => void>();

  constructor(
    private readonly store: KeyValueStore | null,
    private readonly key: string,
  ) {
    this.items = this.load();
  }

  private load(): OutboxItem[] {
    try {
      const raw = this.store?.getItem(this.key);
      if (!raw) return [];
      const parsed: unknown = JSON.parse(raw);
      if (!Array.isArray(parsed)) return [];
      // After a reload nothing is "sending" any more: it is pending again.
      return parsed.filter(isItem).map((item) => ({
        ...item,
        state: item.state === 'failed' ? 'failed' : 'pending',
      }));
    } catch {
      return [];
    }
  }

  /** Re-reads the queue (another tab changed it). */
  reload(): void {
    const inFlight = new Set(this.items.filter((i) => i.state === 'sending').map((i) => i.client_id));
    this.items = this.load().map((i) => (inFlight.has(i.client_id) ? { ...i, state: 'sending' } : i));
    for (const listener of this.listeners) listener();
  }

  private save(): void {
    try {
      if (this.items.length) this.store?.setItem(this.key, JSON.stringify(this.items));
      else this.store?.removeItem(this.key);
    } catch {
      // Storage full: the queue still lives in memory for this page.
    }
    for (const listener of this.listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  all(): readonly OutboxItem[] {
    return this.items;
  }

  get(clientId: string): OutboxItem | undefined {
    return this.items.find((i) => i.client_id === clientId);
  }

  /** Items of one channel (top level, or one thread when `threadRoot` is given). */
  forChannel(channelId: number, threadRoot: number | null = null): OutboxItem[] {
    return this.items.filter((i) => i.channel_id === channelId && i.thread_root === threadRoot);
  }

  /** Queues a new message and returns it (state `pending`). */
  add(
    message: {
      channel_id: number;
      body: string;
      thread_root?: number | null;
      files?: readonly FileView[];
      quote?: QuoteView | null;
      also_in_channel?: boolean;
    },
    clientId: string = newClientId(),
    now: number = Date.now(),
  ): OutboxItem {
    const item: OutboxItem = {
      client_id: clientId,
      channel_id: message.channel_id,
      thread_root: message.thread_root ?? null,
      body: message.body,
      created_at: now,
      state: 'pending',
    };
    if (message.files?.length) {
      item.attachments = message.files.map((f) => f.id);
      item.files = [...message.files];
    }
    if (message.quote) {
      item.quote_of = message.quote.id;
      item.quote = message.quote;
    }
    if (message.also_in_channel && item.thread_root !== null) item.also_in_channel = true;
    this.items = [...this.items, item];
    this.save();
    return item;
  }

  /** Items to (re)send now, oldest first: everything not failed and not in flight. */
  sendable(): OutboxItem[] {
    return this.items.filter((i) => i.state === 'pending');
  }

  markSending(clientId: string): void {
    this.update(clientId, { state: 'sending' });
  }

  /** The connection dropped: everything in flight goes back to pending. */
  resetSending(): void {
    if (!this.items.some((i) => i.state === 'sending')) return;
    this.items = this.items.map((i) => (i.state === 'sending' ? { ...i, state: 'pending' } : i));
    this.save();
  }

  /** The server refused it for good (e.g. archived channel, too large), with its error code. */
  markFailed(clientId: string, error: string, detail: { field?: string | null; params?: ErrorParams } = {}): void {
    const params = detail.params && Object.keys(detail.params).length ? detail.params : undefined;
    this.update(clientId, { state: 'failed', error, error_field: detail.field ?? undefined, error_params: params });
  }

  /** Puts a failed item back in the queue. */
  retry(clientId: string): void {
    this.update(clientId, { state: 'pending', error: undefined, error_field: undefined, error_params: undefined });
  }

  private update(clientId: string, patch: Partial<OutboxItem>): void {
    let changed = false;
    this.items = this.items.map((i) => {
      if (i.client_id !== clientId) return i;
      changed = true;
      const next = { ...i, ...patch };
      // A cleared property leaves the stored item rather than being kept as undefined.
      for (const key of ['error', 'error_field', 'error_params'] as const) {
        if (key in patch && patch[key] === undefined) delete next[key];
      }
      return next;
    });
    if (changed) this.save();
  }

  /** Removes an item (discarded by the user). */
  remove(clientId: string): void {
    const before = this.items.length;
    this.items = this.items.filter((i) => i.client_id !== clientId);
    if (this.items.length !== before) this.save();
  }

  /**
   * A message arrived from the server (ack or event): if it carries the client
   * id of a queued item, that item is delivered and leaves the outbox.
   * Returns true when an item was removed.
   */
  confirm(message: Pick<Message, 'client_id'>): boolean {
    if (!message.client_id) return false;
    const before = this.items.length;
    this.items = this.items.filter((i) => i.client_id !== message.client_id);
    if (this.items.length === before) return false;
    this.save();
    return true;
  }
}
