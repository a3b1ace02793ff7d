// Linked sites (pure helpers, apart from `t()` for the current language): the invitation code
// read before accepting it (never its secret), a person's name with their site, a link's state
// and backlog in words, and what a channel's header says about the sites that carry it.

import type { ChannelLink, ChannelShare, LinkState, LinkView, Person } from './api';
import { relativeTime } from './admin';
import { t, type MessageKey } from './i18n';

/** How every invitation code starts. */
export const LINK_CODE_PREFIX = 'outpost-link:';

/** The longest code the server takes. */
const MAX_CODE_LENGTH = 4096;

/** What an invitation code says about the site that made it (its secret is left out). */
export interface LinkInvitation {
  /** The code as the server takes it: spaces and line breaks picked up by copying removed. */
  code: string;
  /** The other site's id. */
  site: string;
  /** The other site's name. */
  name: string;
  addresses: string[];
  /** SHA-256 of the other site's CA, as its administrator reads it out. */
  fingerprint: string;
}

/** The bytes of unpadded base64url text, or null when it is none. */
function base64UrlBytes(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) return null;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  try {
    const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * Reads an invitation code (`outpost-link:` + base64url of `{v:1, site, name, addresses,
 * fingerprint, secret}`), as pasted: null when it is not a complete one. The secret is checked
 * to be there but never returned.
 */
export function decodeLinkCode(input: string): LinkInvitation | null {
  const code = input.replace(/\s+/g, '');
  if (!code.startsWith(LINK_CODE_PREFIX) || code.length > MAX_CODE_LENGTH) return null;
  const bytes = base64UrlBytes(code.slice(LINK_CODE_PREFIX.length));
  if (!bytes) return null;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const { v, site, name, addresses, fingerprint, secret } = body as Record<string, unknown>;
  if (v !== 1 || !isText(site) || typeof name !== 'string' || !isText(fingerprint)) return null;
  if (typeof secret !== 'string' || secret.length < 32) return null;
  if (!Array.isArray(addresses) || !addresses.length || !addresses.every(isText)) return null;
  return { code, site, name: name.trim() || site, addresses: [...addresses], fingerprint: fingerprint.trim() };
}

/**
 * A fingerprint in lines of eight bytes ("AB:CD:…"), for reading it out and comparing it: the
 * invitation and the confirmation show it the same way on both sites.
 */
export function fingerprintLines(fingerprint: string): string[] {
  const bytes = fingerprint.trim().toUpperCase().split(':').filter(Boolean);
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 8) lines.push(bytes.slice(i, i + 8).join(':'));
  return lines;
}

/** "Anna · HQ" for a person of a linked site, else just the name (display name, else user name). */
export function displayNameWithSite(person: Pick<Person, 'display_name' | 'username'> & { site?: string | null }): string {
  const name = person.display_name || person.username;
  const site = person.site?.trim();
  return site ? t('person.withSite', { name, site }) : name;
}

/** A link's state as the UI shows it: a newer server's unknown state counts as down. */
export type LinkLook = 'connected' | 'down' | 'paused';

export function linkLook(state: LinkState | string): LinkLook {
  return state === 'connected' ? 'connected' : state === 'paused' ? 'paused' : 'down';
}

const STATE_LABELS: Record<LinkLook, MessageKey> = {
  connected: 'links.state.connected',
  down: 'links.state.down',
  paused: 'links.state.paused',
};

/** "Connected", "Link down", "Paused". */
export function linkStateLabel(state: LinkState | string): string {
  return t(STATE_LABELS[linkLook(state)]);
}

/** "5 minutes ago", or "never" when the sites have not been in contact. */
export function lastContactText(at: number | null, now: number, locale: string): string {
  return at === null ? t('links.never') : relativeTime(at, now, locale);
}

/** How far behind a link is: "Up to date", else what waits each way. */
export function backlogText(out: number, inbound: number): string {
  const parts: string[] = [];
  if (out > 0) parts.push(t('links.behindOut', { n: out }));
  if (inbound > 0) parts.push(t('links.behindIn', { n: inbound }));
  return parts.length ? parts.join(', ') : t('links.upToDate');
}

/** The links a channel is not shared with yet, by name. */
export function shareableLinks(links: readonly LinkView[], shares: readonly ChannelShare[], locale?: string): LinkView[] {
  const shared = new Set(shares.map((s) => s.link_id));
  return links.filter((l) => !shared.has(l.id)).sort((a, b) => a.name.localeCompare(b.name, locale));
}

/** What a channel's header shows about the linked sites that carry it. */
export interface LinksSummary {
  /** "Shared with HQ", "Shared with 3 sites", "Shared from HQ". */
  text: string;
  /** The channel's home is another site (this site takes part in it). */
  home: boolean;
  /** The worst state among the links: any down, else any paused, else connected. */
  look: LinkLook;
  /** One line per site: its state and last contact. */
  title: string;
}

/** The header's summary of a channel's links; null when no linked site carries it. */
export function linksSummary(links: readonly ChannelLink[], now: number, locale: string): LinksSummary | null {
  if (!links.length) return null;
  const home = links.find((l) => l.home);
  const names = links.map((l) => l.site_name);
  let text: string;
  if (home) text = t('links.sharedFrom', { name: home.site_name });
  else if (names.length <= 2) text = t('links.sharedWith', { names: listText(names, locale) });
  else text = t('links.sharedWithMany', { n: names.length });
  const looks = links.map((l) => linkLook(l.state));
  const look: LinkLook = looks.includes('down') ? 'down' : looks.includes('paused') ? 'paused' : 'connected';
  const title = links
    .map((l) =>
      t('links.tooltip', {
        name: l.site_name,
        state: linkStateLabel(l.state),
        contact: l.last_contact_at === null ? t('links.noContact') : t('links.contact', { time: relativeTime(l.last_contact_at, now, locale) }),
      }),
    )
    .join('\n');
  return { text, home: !!home, look, title };
}

/** "HQ and Branch" in the reader's language. */
function listText(names: readonly string[], locale: string): string {
  try {
    return new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }).format(names);
  } catch {
    return names.join(', ');
  }
}

/**
 * A channel's shares (as `PUT`/`DELETE /channels/{id}/links/…` answer them, without states) with
 * the states last seen: from the channel's list, else from the administrator's list of links;
 * unknown ones count as down until the next answer.
 */
export function withLinkStates(
  shares: readonly ChannelShare[],
  known: readonly ChannelLink[],
  links: readonly LinkView[] = [],
): ChannelLink[] {
  return shares.map((share) => {
    const seen = known.find((k) => k.link_id === share.link_id);
    if (seen) return { ...seen, ...share };
    const link = links.find((l) => l.id === share.link_id);
    return {
      ...share,
      state: link?.state ?? 'disconnected',
      last_contact_at: link?.last_contact_at ?? null,
      backlog_in: link?.backlog_in ?? 0,
      backlog_out: link?.backlog_out ?? 0,
    };
  });
}
