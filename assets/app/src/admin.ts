// Administration helpers (pure, apart from `t()` for the current language): the users list's
// search and order, "5 minutes ago", retention values, the onboarding address for phones, and
// the audit log's events as sentences.

import type { AuditEntry, User } from './api';
import { t, type MessageKey, type Params } from './i18n';
import { foldText } from './people';

type Searchable = Pick<User, 'display_name' | 'username'> & Partial<Pick<User, 'title' | 'department'>>;

/** Whether every word of the query is part of the user's names, job title or department (any case, ё = е). */
export function userMatches(user: Searchable, query: string): boolean {
  const words = foldText(query).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const text = foldText([user.display_name, user.username, user.title ?? '', user.department ?? ''].join('\n'));
  return words.every((w) => text.includes(w));
}

/** The users matching the query: active accounts first, each by name in the reader's language's order. */
export function searchUsers<U extends Searchable & Pick<User, 'disabled'>>(users: readonly U[], query: string, locale?: string): U[] {
  return users
    .filter((u) => userMatches(u, query))
    .sort((a, b) => {
      const gone = Number(a.disabled) - Number(b.disabled);
      if (gone) return gone;
      const an = a.display_name || a.username;
      const bn = b.display_name || b.username;
      return an.localeCompare(bn, locale, { sensitivity: 'base' }) || a.username.localeCompare(b.username);
    });
}

const UNITS: [Intl.RelativeTimeFormatUnit, number, number][] = [
  // unit, its length in seconds, used below this many seconds
  ['minute', 60, 45 * 60],
  ['hour', 3600, 22 * 3600],
  ['day', 86400, 26 * 86400],
  ['month', 30 * 86400, 320 * 86400],
  ['year', 365 * 86400, Infinity],
];

/** "just now", "5 minutes ago", "yesterday", "3 months ago" in the given language. */
export function relativeTime(at: number, now: number, locale: string): string {
  const seconds = (at - now) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 45) return t('admin.justNow');
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, length, below] of UNITS) {
    if (abs < below) return format.format(Math.round(seconds / length), unit);
  }
  return format.format(Math.round(seconds / (365 * 86400)), 'year');
}

/** The largest retention the server takes, in days. */
export const MAX_RETENTION_DAYS = 36_500;

/** A typed number of days (0 to 36500, whole), or null when it is not one. */
export function parseDays(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,5}$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n <= MAX_RETENTION_DAYS ? n : null;
}

/** "Forever" for 0 ("forever" within a sentence), else "30 days". */
export function daysLabel(days: number, inline = false): string {
  if (days === 0) return inline ? t('audit.value.forever') : t('admin.forever');
  return t('admin.days', { n: days });
}

/**
 * The onboarding page for phones (`http://HOST:PORT/`, where they install the CA certificate),
 * on the host this page was opened with; null when the server has no plain-HTTP port.
 */
export function onboardingAddress(hostname: string, port: number | null | undefined): string | null {
  if (!port || !hostname) return null;
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  return `http://${host}:${port}/`;
}

// ---- The audit log as sentences -------------------------------------------------

/** Names to show in sentences (the audit log stores user names and ids). */
export interface AuditNames {
  /** user name → how to show them (the display name); absent: the user name itself. */
  byUsername: ReadonlyMap<string, string>;
  byId: ReadonlyMap<number, string>;
  /** channel id → its name, without "#". */
  channels: ReadonlyMap<number, string>;
}

export const NO_NAMES: AuditNames = { byUsername: new Map(), byId: new Map(), channels: new Map() };

/** Actors that are not people. */
const SPECIAL_ACTORS: Record<string, MessageKey> = {
  cli: 'audit.actor.cli',
  system: 'audit.actor.system',
  backup: 'audit.actor.backup',
  retention: 'audit.actor.retention',
  link: 'audit.actor.link',
};

function person(names: AuditNames, username: string): string {
  if (!username) return t('audit.actor.unknown');
  return names.byUsername.get(username) || username;
}

function actorName(names: AuditNames, actor: string): string {
  const special = SPECIAL_ACTORS[actor];
  return special ? t(special) : person(names, actor);
}

/** "#name (12)", "channel 12", "conversation 12" (as the server writes them) → "#name". */
export function channelName(names: AuditNames, label: string): string {
  const named = /^(#\S+) \(\d+\)$/.exec(label);
  if (named) return named[1]!;
  const byId = /^channel (\d+)$/.exec(label);
  if (byId) {
    const id = Number(byId[1]);
    const name = names.channels.get(id);
    return name ? `#${name}` : t('audit.someone', { id });
  }
  const conversation = /^conversation (\d+)$/.exec(label);
  if (conversation) return t('audit.conversation', { id: Number(conversation[1]) });
  return label;
}

/** "user 7" (as the server writes it) → the person's name; anything else: as it is. */
function userFromDetails(names: AuditNames, details: string): string {
  const m = /^user (\d+)$/.exec(details.trim());
  if (!m) return person(names, details.trim());
  const id = Number(m[1]);
  return names.byId.get(id) ?? t('audit.someone', { id });
}

/** "link 3 (HQ)" (as the server writes a linked site) → "HQ"; anything else: as it is. */
export function linkSiteName(label: string): string {
  const m = /^link \d+ \((.*)\)$/.exec(label.trim());
  return m ? m[1]! : label;
}

/** A retention setting as the server writes it ("30 days", "keep forever", "server default", "as configured"). */
function retentionValue(details: string): string {
  const days = /^(\d+) days?$/.exec(details.trim());
  if (days) return Number(days[1]) === 0 ? t('audit.value.forever') : t('audit.value.days', { n: Number(days[1]) });
  if (details === 'keep forever') return t('audit.value.forever');
  if (details === 'server default') return t('audit.value.siteDefault');
  if (details === 'as configured') return t('audit.value.config');
  return details;
}

const POLICY_LABELS: Record<string, MessageKey> = {
  off: 'admin.twoFactor.off',
  admins: 'admin.twoFactor.admins',
  everyone: 'admin.twoFactor.everyone',
};

/** Action codes that mean the same as another (the command line's words). */
const SAME_AS: Record<string, string> = {
  'user-promoted': 'admin-granted',
  'user-demoted': 'admin-revoked',
};

/**
 * One audit event as a sentence in the UI language ("alice disabled the account bob" /
 * "alice: учётная запись bob отключена"). Unknown codes give the code itself.
 */
export function auditSentence(entry: AuditEntry, names: AuditNames = NO_NAMES): string {
  const action = SAME_AS[entry.action] ?? entry.action;
  // Some entries name their actor by id only (an empty name): the name from the id then.
  const byId = !entry.actor && entry.actor_id !== null ? names.byId.get(entry.actor_id) : undefined;
  const actor = byId ?? actorName(names, entry.actor);
  const target = person(names, entry.target);
  const details = entry.details ?? '';
  const say = (key: MessageKey, params: Params = {}) => t(key, { actor, target, ...params });
  switch (action) {
    case 'user-created':
      return entry.actor === entry.target ? say('audit.user-created.self') : say('audit.user-created');
    case 'profile-changed':
      return entry.actor === entry.target ? say('audit.profile-changed.self') : say('audit.profile-changed');
    case 'sign-in-failed':
      return say('audit.sign-in-failed', { target: entry.target || entry.actor });
    case 'two-factor-policy-changed': {
      const label = POLICY_LABELS[entry.target];
      return say('audit.two-factor-policy-changed', { value: label ? t(label) : entry.target });
    }
    case 'channel-created':
    case 'channel-archived':
    case 'channel-unarchived':
      return say(`audit.${action}` as MessageKey, { channel: channelName(names, entry.target) });
    case 'member-added':
    case 'member-removed':
    case 'owner-added':
    case 'owner-removed':
    case 'directory-member-added':
    case 'directory-member-removed':
      return say(`audit.${action}` as MessageKey, {
        channel: channelName(names, entry.target),
        user: userFromDetails(names, details),
      });
    case 'retention-set':
      return say('audit.retention-set', { channel: channelName(names, entry.target), value: retentionValue(details) });
    case 'site-retention-changed':
      return say('audit.site-retention-changed', { value: retentionValue(details) });
    case 'retention-applied': {
      const n = /^(\d+) messages?/.exec(details);
      return say('audit.retention-applied', { channel: channelName(names, entry.target), n: n ? Number(n[1]) : details });
    }
    case 'webhook-created':
    case 'webhook-deleted':
      return say(`audit.${action}` as MessageKey, { channel: channelName(names, entry.target), name: details });
    case 'outgoing-webhook-created':
    case 'outgoing-webhook-deleted':
      return say(`audit.${action}` as MessageKey, {
        channel: channelName(names, entry.target),
        name: details.split(': ')[0] ?? details,
      });
    case 'link-accept':
    case 'link-accepted':
    case 'link-pause':
    case 'link-resume':
    case 'link-remove':
      return say(`audit.${action}` as MessageKey, { site: linkSiteName(entry.target) });
    case 'channel-shared':
    case 'channel-unshared':
      return say(`audit.${action}` as MessageKey, { channel: channelName(names, entry.target), site: linkSiteName(details) });
    case 'outgoing-webhook-called':
      return say('audit.outgoing-webhook-called', {
        channel: channelName(names, entry.target),
        name: entry.actor.replace(/^webhook /, ''),
      });
    default: {
      const key = `audit.${action}` as MessageKey;
      const text = t(key);
      // t() gives the key back for a code it does not know.
      return text === key ? entry.action : say(key);
    }
  }
}

/** The small print under a sentence: what the server wrote that the sentence does not say. */
export function auditDetails(entry: AuditEntry): string {
  switch (SAME_AS[entry.action] ?? entry.action) {
    case 'member-added':
    case 'member-removed':
    case 'owner-added':
    case 'owner-removed':
    case 'directory-member-added':
    case 'directory-member-removed':
    case 'retention-set':
    case 'site-retention-changed':
    case 'webhook-created':
    case 'webhook-deleted':
    case 'retention-applied':
    case 'link-pause':
    case 'link-resume':
    case 'channel-shared':
    case 'channel-unshared':
      return '';
    default:
      return entry.details ?? '';
  }
}
