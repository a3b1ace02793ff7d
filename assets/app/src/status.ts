// Custom status helpers (pure but for formatting): how long a status lasts, the presets, the
// checks the server makes, whether a status still shows, and "until …".

import type { ClearAfter, Status, StatusUpdate } from './api';
import { getLocale, t, type MessageKey } from './i18n';

/** The "Clear after" choices, in the order offered. */
export const CLEAR_AFTER: readonly ClearAfter[] = ['30m', '1h', '4h', 'today', 'week', 'never'];

export const CLEAR_AFTER_LABELS: Record<ClearAfter, MessageKey> = {
  '30m': 'status.clear.30m',
  '1h': 'status.clear.1h',
  '4h': 'status.clear.4h',
  today: 'status.clear.today',
  week: 'status.clear.week',
  never: 'status.clear.never',
};

/** What a new status clears after unless the person picks otherwise. */
export const DEFAULT_CLEAR_AFTER: ClearAfter = 'today';

export interface StatusPreset {
  emoji: string;
  text: MessageKey;
  clearAfter: ClearAfter;
}

/** Ready-made statuses (the text in the reader's language). */
export const STATUS_PRESETS: readonly StatusPreset[] = [
  { emoji: '📅', text: 'status.preset.meeting', clearAfter: '1h' },
  { emoji: '🚗', text: 'status.preset.onTheWay', clearAfter: '30m' },
  { emoji: '🤒', text: 'status.preset.sick', clearAfter: 'today' },
  { emoji: '🌴', text: 'status.preset.leave', clearAfter: 'never' },
];

/** The longest status text the server takes, in characters. */
export const STATUS_MAX_CHARS = 100;

/** What is wrong with a status before sending it (the server checks the same), or null. */
export function statusProblem(text: string): MessageKey | null {
  const clean = text.trim();
  if ([...clean].length > STATUS_MAX_CHARS) return 'status.tooLong';
  if (/[\u0000-\u001f\u007f]/.test(clean)) return 'status.badText';
  return null;
}

/** The `PUT /me/status` body. */
export function statusBody(emoji: string, text: string, clearAfter: ClearAfter): StatusUpdate {
  return { emoji: emoji.trim(), text: text.trim(), clear_after: CLEAR_AFTER.includes(clearAfter) ? clearAfter : DEFAULT_CLEAR_AFTER };
}

/** The status while it shows: set, and not expired at `now`; else null. */
export function activeStatus(status: Status | null | undefined, now: number = Date.now()): Status | null {
  if (!status || (!status.emoji && !status.text)) return null;
  if (status.expires_at !== null && status.expires_at <= now) return null;
  return status;
}

/** The emoji shown for a status (a speech balloon for one with text only). */
export function statusEmoji(status: Pick<Status, 'emoji'>): string {
  return status.emoji || '💬';
}

function sameDay(a: Date, b: Date): boolean {
  return a.toDateString() === b.toDateString();
}

/** "until 14:30" for a time today, "until Fri 5 Dec, 14:30" for a later one (local time). */
export function formatUntil(time: number, now: number = Date.now(), locale: string = getLocale()): string {
  const at = new Date(time);
  if (sameDay(at, new Date(now))) {
    return t('status.untilTime', {
      time: new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(at),
    });
  }
  const far = time - now > 180 * 86_400_000;
  return t('status.untilDate', {
    date: new Intl.DateTimeFormat(locale, {
      weekday: far ? undefined : 'short',
      day: 'numeric',
      month: 'short',
      year: far ? 'numeric' : undefined,
      hour: far ? undefined : '2-digit',
      minute: far ? undefined : '2-digit',
    }).format(at),
  });
}

/** A status as one line: "🤒 Out sick", with "until …" when it ends. */
export function statusLine(status: Status, now: number = Date.now()): string {
  const text = status.text || '';
  const until = status.expires_at !== null ? formatUntil(status.expires_at, now) : '';
  return [statusEmoji(status), text, until ? `(${until})` : ''].filter(Boolean).join(' ');
}
