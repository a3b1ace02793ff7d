// Pure helpers of the chat client: list rows, unread counts, the tab title,
// search snippets, the persisted resume position. All unit tested.

import type { Channel, Message, Person } from '../api';

/** Messages by the same author closer than this are shown as one group. */
export const GROUP_GAP_MS = 5 * 60 * 1000;

export type Row =
  | { type: 'day'; key: string; day: string; time: number }
  | { type: 'unread'; key: string }
  | { type: 'message'; key: string; message: Message; first: boolean };

/** Local calendar day of a timestamp, `YYYY-MM-DD`. */
export function dayKey(time: number): string {
  const d = new Date(time);
  const mm = String(d.getMonth() + 1).padStart(2, '0');
  const dd = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${mm}-${dd}`;
}

/** Posted by another system through an incoming webhook: no author, a sender name instead. */
export function isWebhookMessage(m: Pick<Message, 'author_id' | 'sender_name'>): boolean {
  return m.author_id === null && typeof m.sender_name === 'string';
}

/**
 * Whether two messages come from the same sender, for grouping: the same author, or for
 * webhook posts the same webhook and sender name.
 */
export function sameSender(
  a: Pick<Message, 'author_id' | 'sender_name' | 'webhook_id'>,
  b: Pick<Message, 'author_id' | 'sender_name' | 'webhook_id'>,
): boolean {
  if (a.author_id !== b.author_id) return false;
  if (a.author_id !== null) return true;
  return a.sender_name === b.sender_name && a.webhook_id === b.webhook_id;
}

/**
 * The rows of a message list: a day divider before the first message of each
 * day, a "new messages" divider before the first message after `lastReadSeq`
 * that someone else wrote, and each message marked `first` when it starts a
 * group (new sender, new day, a gap of five minutes, after a divider, a
 * system message, or a message that arrived late from a linked site).
 */
export function buildRows(messages: readonly Message[], lastReadSeq: number | null, me: number): Row[] {
  const rows: Row[] = [];
  let prev: Message | null = null;
  let unreadPlaced = lastReadSeq === null;
  const dayKeys = new Set<string>();
  for (const m of messages) {
    const day = dayKey(m.created_at);
    let breakGroup = false;
    if (!prev || dayKey(prev.created_at) !== day) {
      // A day may come back after another (a message from a linked site whose clock differs):
      // its divider then needs a key of its own.
      const base = `d${day}`;
      let key = base;
      for (let n = 2; dayKeys.has(key); n++) key = `${base}-${n}`;
      dayKeys.add(key);
      rows.push({ type: 'day', key, day, time: m.created_at });
      breakGroup = true;
    }
    if (!unreadPlaced && m.seq > (lastReadSeq ?? 0) && m.author_id !== me) {
      rows.push({ type: 'unread', key: 'unread' });
      unreadPlaced = true;
      breakGroup = true;
    }
    const first =
      breakGroup ||
      !prev ||
      // A message that arrived late shows its sender, time and "arrived late".
      m.late === true ||
      !sameSender(prev, m) ||
      prev.kind !== 'text' ||
      m.kind !== 'text' ||
      m.created_at - prev.created_at > GROUP_GAP_MS;
    rows.push({ type: 'message', key: `m${m.id}`, message: m, first });
    prev = m;
  }
  return rows;
}

/**
 * The order of a conversation's messages: by `sort_key` (the order every linked site agrees on)
 * when both have one, then by `seq`. Messages without a `sort_key` (older servers, saved copies)
 * keep the `seq` order.
 */
export function compareMessages(a: Pick<Message, 'seq' | 'sort_key'>, b: Pick<Message, 'seq' | 'sort_key'>): number {
  if (typeof a.sort_key === 'number' && typeof b.sort_key === 'number' && a.sort_key !== b.sort_key) {
    return a.sort_key < b.sort_key ? -1 : 1;
  }
  return a.seq - b.seq;
}

/** Inserts or replaces messages (by id) and keeps the list in conversation order (`compareMessages`). */
export function mergeMessages(list: readonly Message[], incoming: readonly Message[]): Message[] {
  if (!incoming.length) return list as Message[];
  const byId = new Map<number, Message>();
  for (const m of list) byId.set(m.id, m);
  let appendOnly = true;
  const last = list.length ? list[list.length - 1]! : null;
  for (const m of incoming) {
    if (byId.has(m.id) || (last && compareMessages(m, last) <= 0)) appendOnly = false;
    byId.set(m.id, m);
  }
  if (appendOnly) {
    const sorted = [...incoming].sort(compareMessages);
    return [...list, ...sorted];
  }
  return [...byId.values()].sort(compareMessages);
}

export function isDirect(channel: Pick<Channel, 'kind'>): boolean {
  return channel.kind === 'dm' || channel.kind === 'group';
}

/**
 * The display name of a channel: `name` for channels; for direct
 * conversations the other people's names (yourself for a note-to-self DM).
 */
export function channelTitle(
  channel: Pick<Channel, 'kind' | 'name' | 'member_ids'>,
  me: number,
  people: ReadonlyMap<number, Person>,
): string {
  if (!isDirect(channel)) return channel.name ?? '';
  const others = channel.member_ids.filter((id) => id !== me);
  const ids = others.length ? others : [me];
  return ids
    .map((id) => {
      const p = people.get(id);
      return p ? p.display_name || p.username : `#${id}`;
    })
    .join(', ');
}

/** Whether a conversation is muted at `now` (`muted_until` in the future). */
export function mutedNow(channel: Pick<Channel, 'muted_until'>, now: number = Date.now()): boolean {
  return channel.muted_until != null && channel.muted_until > now;
}

/**
 * What counts as "needs attention": mentions in channels, every unread message in DMs; in a
 * muted conversation only mentions.
 */
export function attentionCount(
  channel: Pick<Channel, 'kind' | 'unread' | 'mentions' | 'muted_until'>,
  now: number = Date.now(),
): number {
  if (mutedNow(channel, now)) return channel.mentions;
  return isDirect(channel) ? channel.unread : channel.mentions;
}

/**
 * The browser tab title: `(3) general · Outpost` when 3 messages need
 * attention (mentions + direct messages), `• general · Outpost` when there is
 * only other unread activity, else `general · Outpost`. Muted conversations count only
 * with mentions.
 */
export function tabTitle(
  channels: readonly Pick<Channel, 'kind' | 'unread' | 'mentions' | 'muted_until'>[],
  page: string,
  app = 'Outpost',
  now: number = Date.now(),
): string {
  const attention = attentionTotal(channels, now);
  let unread = false;
  for (const c of channels) {
    if (c.unread > 0 && (!mutedNow(c, now) || c.mentions > 0)) unread = true;
  }
  const base = page && page !== app ? `${page} · ${app}` : app;
  if (attention > 0) return `(${attention}) ${base}`;
  if (unread) return `• ${base}`;
  return base;
}

/** The number on the tab title and the app badge: everything that needs attention. */
export function attentionTotal(
  channels: readonly Pick<Channel, 'kind' | 'unread' | 'mentions' | 'muted_until'>[],
  now: number = Date.now(),
): number {
  let n = 0;
  for (const c of channels) n += attentionCount(c, now);
  return n;
}

/**
 * Applies a new message to a channel's counters, idempotently: a message at
 * or below the channel's known `last_seq` changes nothing (it is already
 * counted, e.g. replayed after a reload).
 */
export function countIncoming(
  channel: Channel,
  message: Pick<Message, 'seq' | 'author_id' | 'thread_root' | 'also_in_channel'>,
  me: number,
  mentionsMe: boolean,
): Channel {
  if (message.seq <= channel.last_seq) return channel;
  const next = { ...channel, last_seq: message.seq };
  if (message.author_id === me) {
    // Writing in a channel means you have read it.
    next.last_read_seq = Math.max(next.last_read_seq, message.seq);
    next.unread = 0;
    next.mentions = 0;
  } else if (message.seq > channel.last_read_seq) {
    // Like the server's counts: unread = messages listed in the channel (thread replies
    // share the channel's sequence but are not counted unless also sent to the channel),
    // mentions = any.
    if (message.thread_root === null || message.also_in_channel) next.unread = channel.unread + 1;
    if (mentionsMe) next.mentions = channel.mentions + 1;
  }
  return next;
}

/** Applies a `read` position (never moves back). */
export function applyRead(channel: Channel, seq: number): Channel {
  if (seq <= channel.last_read_seq) return channel;
  const caughtUp = seq >= channel.last_seq;
  return {
    ...channel,
    last_read_seq: seq,
    unread: caughtUp ? 0 : channel.unread,
    mentions: caughtUp ? 0 : channel.mentions,
  };
}

export type SnippetPart = { text: string; mark: boolean };

/** Splits a search snippet into plain and highlighted parts (U+E000 … U+E001). */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let mark = false;
  let buf = '';
  for (const ch of snippet) {
    if (ch === '\uE000' || ch === '\uE001') {
      if (buf) parts.push({ text: buf, mark });
      buf = '';
      mark = ch === '\uE000';
      continue;
    }
    buf += ch;
  }
  if (buf) parts.push({ text: buf, mark });
  return parts;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * The snippet as HTML with `<mark>` around highlighted words; the text is
 * escaped first. (The UI renders `snippetParts` as VNodes; this is for
 * notifications and other string consumers.)
 */
export function snippetHtml(snippet: string): string {
  return snippetParts(snippet)
    .map((p) => {
      const text = p.text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
      return p.mark ? `<mark>${text}</mark>` : text;
    })
    .join('');
}

/** Where the client resumes the event stream: persisted per user. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export class ResumePosition {
  private value: number | null;
  constructor(
    private readonly store: KeyValueStore | null,
    private readonly key: string,
  ) {
    const raw = store?.getItem(key) ?? null;
    const n = raw === null ? NaN : Number(raw);
    this.value = Number.isSafeInteger(n) && n >= 0 ? n : null;
  }
  get(): number | null {
    return this.value;
  }
  /** Records a newer position; older or equal positions are ignored. */
  advance(pos: number): void {
    if (!Number.isSafeInteger(pos) || pos < 0) return;
    if (this.value !== null && pos <= this.value) return;
    this.set(pos);
  }
  /** Takes the server's position as is (after `ready`, which may also reset it on resync). */
  set(pos: number): void {
    this.value = pos;
    try {
      this.store?.setItem(this.key, String(pos));
    } catch {
      // Storage full or unavailable: the position lives in memory only.
    }
  }
  clear(): void {
    this.value = null;
    try {
      this.store?.removeItem(this.key);
    } catch {
      // ignore
    }
  }
  /** The WebSocket URL path with `resume_from` when a position is known. */
  url(base: string): string {
    return this.value === null ? base : `${base}?resume_from=${this.value}`;
  }
}

/** Reconnect delay: exponential from 0.5 s up to 30 s, with ±20% jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Filters people for a picker or autocomplete by user name or display name prefix/substring. */
export function matchPeople(people: readonly Person[], query: string, limit = 8): Person[] {
  const q = query.trim().toLowerCase();
  if (!q) return people.slice(0, limit);
  const starts: Person[] = [];
  const contains: Person[] = [];
  for (const p of people) {
    const u = p.username.toLowerCase();
    const d = p.display_name.toLowerCase();
    if (u.startsWith(q) || d.startsWith(q) || d.split(/\s+/).some((w) => w.startsWith(q))) starts.push(p);
    else if (u.includes(q) || d.includes(q)) contains.push(p);
  }
  return [...starts, ...contains].slice(0, limit);
}

/** The `@word` being typed just before the caret, if any. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(^|[^\p{L}\p{N}_])@([A-Za-z0-9._-]*)$/u.exec(before);
  if (!m) return null;
  return { start: caret - m[2]!.length - 1, query: m[2]! };
}

export interface ParsedSearch {
  q: string;
  channel_id: number | null;
  author_id: number | null;
  from: number | null;
  to: number | null;
  /** Filter words that matched nothing (shown to the user). */
  unknown: string[];
}

function localDay(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d.getTime();
}

/**
 * Slack-style filters in a search: `in:#general` (or `in:@bob` for a DM),
 * `from:@bob`, `after:2026-01-31`, `before:2026-02-28` (local days; `after`
 * starts the day after, `before` ends the day before, `on:` is one day).
 * Everything else is the full-text query.
 */
export function parseSearch(
  input: string,
  channels: readonly Pick<Channel, 'id' | 'kind' | 'name' | 'member_ids'>[],
  people: readonly Pick<Person, 'id' | 'username'>[],
  me: number,
): ParsedSearch {
  const out: ParsedSearch = { q: '', channel_id: null, author_id: null, from: null, to: null, unknown: [] };
  const words: string[] = [];
  const DAY = 86_400_000;
  const person = (name: string) => people.find((p) => p.username.toLowerCase() === name.replace(/^@/, '').toLowerCase());
  for (const word of input.trim().split(/\s+/).filter(Boolean)) {
    const m = /^(in|from|after|before|on):(.+)$/i.exec(word);
    if (!m) {
      words.push(word);
      continue;
    }
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (key === 'in') {
      let found: number | null = null;
      if (value.startsWith('@')) {
        const p = person(value);
        const dm = p && channels.find((c) => c.kind === 'dm' && c.member_ids.includes(p.id) && (p.id === me || c.member_ids.includes(me)));
        found = dm ? dm.id : null;
      } else {
        const name = value.replace(/^#/, '').toLowerCase();
        found = channels.find((c) => (c.name ?? '').toLowerCase() === name)?.id ?? null;
      }
      if (found === null) out.unknown.push(word);
      else out.channel_id = found;
    } else if (key === 'from') {
      const p = person(value);
      if (p) out.author_id = p.id;
      else out.unknown.push(word);
    } else {
      const day = localDay(value);
      if (day === null) out.unknown.push(word);
      else if (key === 'after') out.from = day + DAY;
      else if (key === 'before') out.to = day;
      else {
        out.from = day;
        out.to = day + DAY;
      }
    }
  }
  out.q = words.join(' ');
  return out;
}
