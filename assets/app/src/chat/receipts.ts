// Read receipts in direct conversations (pure): which of one's own messages shows "Seen", by
// whom, and how it reads.

import type { ChannelKind, Message, Receipt } from '../api';
import { t } from '../i18n';

export interface Seen {
  /** The message the line goes under. */
  messageId: number;
  /** Who read it, earliest first. */
  readers: Receipt[];
}

/**
 * One's own latest message that someone else has read (a receipt at or past its `seq`), with
 * those readers; null when none is read. Only top-level messages of the conversation count.
 */
export function seenMessage(items: readonly Message[], me: number, receipts: readonly Receipt[]): Seen | null {
  const others = receipts.filter((r) => r.user_id !== me);
  if (!others.length) return null;
  for (let i = items.length - 1; i >= 0; i--) {
    const m = items[i]!;
    if (m.author_id !== me || m.deleted || m.thread_root !== null || m.kind !== 'text') continue;
    const readers = others.filter((r) => r.seq >= m.seq);
    if (readers.length) {
      readers.sort((a, b) => (a.read_at ?? 0) - (b.read_at ?? 0) || a.user_id - b.user_id);
      return { messageId: m.id, readers };
    }
  }
  return null;
}

/** Adds or moves one member's receipt (never backwards); the same list when nothing changes. */
export function applyReceipt(list: readonly Receipt[], receipt: Receipt): readonly Receipt[] {
  const at = list.findIndex((r) => r.user_id === receipt.user_id);
  if (at === -1) return [...list, receipt];
  if (list[at]!.seq >= receipt.seq) return list;
  const next = [...list];
  next[at] = receipt;
  return next;
}

/**
 * The line under the message: "Seen" in a conversation of two, "Seen by N" in a group; the
 * title lists who and when.
 */
export function seenText(
  kind: ChannelKind,
  readers: readonly Receipt[],
  nameOf: (id: number) => string,
  timeOf: (time: number) => string,
): { label: string; title: string } {
  const label = kind === 'group' ? t('receipts.seenBy', { n: readers.length }) : t('receipts.seen');
  const title = readers
    .map((r) => (r.read_at !== null ? t('receipts.who', { name: nameOf(r.user_id), time: timeOf(r.read_at) }) : nameOf(r.user_id)))
    .join('\n');
  return { label, title };
}
