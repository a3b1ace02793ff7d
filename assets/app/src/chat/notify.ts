// Whether a new message should notify (desktop notification): do-not-disturb, the daily quiet
// time in the person's time zone, the conversation's level and mute, mentions and keywords.
// Pure and unit tested.

import type { Channel, NotifyLevel, Preferences } from '../api';
import { effectiveZone, minuteOfDay, parseClock } from '../timezone';
import { mutedNow } from './logic';
import { mentionsUser } from './markdown';

/** Lower case, every run of characters that are not letters or digits one space (as the server). */
export function normalizeWords(text: string): string {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .join(' ');
}

/** Whether one of the keywords (words or phrases) is in `body` as whole words, in any case. */
export function matchesKeyword(body: string, keywords: readonly string[]): boolean {
  if (!keywords.length) return false;
  const text = ` ${normalizeWords(body)} `;
  return keywords.some((k) => {
    const word = normalizeWords(k);
    return word !== '' && text.includes(` ${word} `);
  });
}

/** Whether a message mentions this person: @username, @channel / @here / @all, or a keyword. */
export function mentionsMe(body: string, username: string, keywords: readonly string[] = []): boolean {
  return mentionsUser(body, username) || matchesKeyword(body, keywords);
}

/** Whether `now` falls in a daily quiet time from `start` to `end` ("HH:MM") on a clock in `zone`. */
export function inQuietTime(now: number, start: string | null, end: string | null, zone: string): boolean {
  const from = parseClock(start);
  const to = parseClock(end);
  if (from === null || to === null || from === to) return false;
  const at = minuteOfDay(now, zone);
  // 22:00–07:00 passes midnight: late evening or early morning.
  return from < to ? at >= from && at < to : at >= from || at < to;
}

export type DndPrefs = Pick<Preferences, 'dnd_until' | 'dnd_start' | 'dnd_end' | 'time_zone'>;

/** Do not disturb: turned on for a while, or the daily quiet time (in the chosen zone, else `browserZone`). */
export function dndActive(prefs: DndPrefs | null | undefined, now: number, browserZone: string): boolean {
  if (!prefs) return false;
  if (prefs.dnd_until !== null && prefs.dnd_until > now) return true;
  return inQuietTime(now, prefs.dnd_start, prefs.dnd_end, effectiveZone(prefs.time_zone, browserZone));
}

export interface NotifyInput {
  now: number;
  /** The person's preferences (null: not loaded, nothing is quiet). */
  prefs: DndPrefs | null;
  /** The zone used when the preferences name none. */
  browserZone: string;
  channel: Pick<Channel, 'muted_until'> & { notify?: NotifyLevel };
  /** The message is the person's own. */
  own: boolean;
  /** The message mentions the person (see `mentionsMe`). */
  mentioned: boolean;
}

/**
 * Whether to notify of a message: never of one's own, nothing during do-not-disturb or with
 * the conversation set to "none"; only mentions with "mentions" or while the conversation is
 * muted; otherwise every message.
 */
export function shouldNotify(i: NotifyInput): boolean {
  if (i.own) return false;
  if (dndActive(i.prefs, i.now, i.browserZone)) return false;
  const level = i.channel.notify ?? 'all';
  if (level === 'none') return false;
  if (level === 'mentions' || mutedNow(i.channel, i.now)) return i.mentioned;
  return true;
}
