// Pure helpers of the message actions: quote previews, message links, the conversations a
// message can be forwarded to. All unit tested.

import type { Channel, Message, Person, QuoteView } from '../api';
import { t } from '../i18n';
import { channelTitle, isDirect } from './logic';
import { plainText } from './markdown';

/** How much of a quoted message the server keeps in a quote (characters). */
export const QUOTE_EXCERPT_CHARS = 200;

/** The longest quote preview shown on one line (characters, before "…"). */
export const QUOTE_PREVIEW_CHARS = 120;

/** A quote of a message as the server would describe it now (for the composer and the outbox). */
export function quoteOf(m: Pick<Message, 'id' | 'author_id' | 'sender_name' | 'body' | 'deleted' | 'files'>): QuoteView {
  return {
    id: m.id,
    author_id: m.author_id,
    sender_name: m.sender_name ?? null,
    excerpt: m.deleted ? '' : [...m.body].slice(0, QUOTE_EXCERPT_CHARS).join(''),
    deleted: m.deleted,
    has_files: !m.deleted && (m.files?.length ?? 0) > 0,
  };
}

/**
 * One line standing for a quoted message: its text with the Markdown marks and line breaks
 * flattened, cut at `max` characters with "…"; else "Attachment" for files only; "Deleted
 * message" once deleted.
 */
export function quotePreviewText(q: Pick<QuoteView, 'excerpt' | 'deleted' | 'has_files'>, max = QUOTE_PREVIEW_CHARS): string {
  if (q.deleted) return t('msg.quoteDeleted');
  const text = plainText(q.excerpt);
  if (!text) return q.has_files ? t('msg.quoteFiles') : '';
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max).join('').trimEnd()}…` : text;
}

/**
 * Applies a changed message to the quotes of it in `items`: a deleted message shows as
 * deleted wherever it is quoted, an edited one with its new text. Returns `items` itself when
 * nothing quotes it.
 */
export function refreshQuotes(items: readonly Message[], changed: Message): readonly Message[] {
  let out: Message[] | null = null;
  items.forEach((m, i) => {
    if (!m.quote || m.quote.id !== changed.id) return;
    const q = quoteOf(changed);
    if (m.quote.deleted === q.deleted && m.quote.excerpt === q.excerpt && m.quote.has_files === q.has_files) return;
    out ??= [...items];
    out[i] = { ...m, quote: { ...m.quote, deleted: q.deleted, excerpt: q.excerpt, has_files: q.has_files } };
  });
  return out ?? items;
}

/** Where a message opened from a link is. `thread`: the root of the thread it is a reply in. */
export interface MessageTarget {
  channelId: number;
  seq: number;
  thread: number | null;
}

/**
 * The link to a message: `ORIGIN/c/CHANNEL?m=SEQ`; a reply shown only in its thread adds
 * `&t=ROOT` (the channel's list does not hold it).
 */
export function messageLink(origin: string, m: Pick<Message, 'channel_id' | 'seq' | 'thread_root' | 'also_in_channel'>): string {
  const base = `${origin.replace(/\/+$/, '')}/c/${m.channel_id}?m=${m.seq}`;
  return m.thread_root !== null && !m.also_in_channel ? `${base}&t=${m.thread_root}` : base;
}

const ID = /^[1-9]\d{0,15}$/;

/**
 * The message a link points at, if it is a message link of this server (`origin`): an
 * absolute URL on the same origin or a path, `/c/ID?m=SEQ[&t=ROOT]`. Null for anything else.
 */
export function parseMessageLink(href: string, origin: string): MessageTarget | null {
  let url: URL;
  try {
    url = new URL(href, origin);
  } catch {
    return null;
  }
  if (url.origin !== new URL(origin).origin) return null;
  const m = /^\/c\/([^/]+)\/?$/.exec(url.pathname);
  if (!m || !ID.test(m[1]!)) return null;
  const seq = url.searchParams.get('m');
  if (!seq || !/^\d{1,16}$/.test(seq)) return null;
  const thread = url.searchParams.get('t');
  return {
    channelId: Number(m[1]),
    seq: Number(seq),
    thread: thread && ID.test(thread) ? Number(thread) : null,
  };
}

/** Lower case, ё read as е: how conversation names are compared in searches. */
function fold(text: string): string {
  return text.toLowerCase().replace(/ё/g, 'е');
}

export interface ForwardTarget {
  channel: Channel;
  /** `#name` for channels, the people's names for direct conversations. */
  label: string;
}

/**
 * The conversations a message can be forwarded to, for the forward dialog's list: every
 * conversation one is in that is not archived, whose name (or a member's name) contains every
 * word of `query` (any case, ё = е). Names starting with the query come first; then channels
 * before direct conversations, each by name.
 */
export function forwardTargets(
  channels: Iterable<Channel>,
  query: string,
  me: number,
  people: ReadonlyMap<number, Person>,
): ForwardTarget[] {
  const words = fold(query.trim().replace(/^[#@]/, '')).split(/\s+/).filter(Boolean);
  const scored: { target: ForwardTarget; starts: boolean; direct: boolean; name: string }[] = [];
  for (const c of channels) {
    if (c.archived) continue;
    const title = channelTitle(c, me, people);
    const direct = isDirect(c);
    const names = [title];
    if (direct) {
      for (const id of c.member_ids) {
        const p = people.get(id);
        if (p) names.push(p.username);
      }
    }
    const hay = fold(names.join(' '));
    if (!words.every((w) => hay.includes(w))) continue;
    const starts = words.length > 0 && fold(title).startsWith(words.join(' '));
    scored.push({ target: { channel: c, label: direct ? title : `#${title}` }, starts, direct, name: title });
  }
  scored.sort(
    (a, b) =>
      Number(b.starts) - Number(a.starts) ||
      Number(a.direct) - Number(b.direct) ||
      a.name.localeCompare(b.name) ||
      a.target.channel.id - b.target.channel.id,
  );
  return scored.map((s) => s.target);
}
