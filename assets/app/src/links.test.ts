import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelLink, LinkView } from './api';
import { setLocale } from './i18n';
import {
  backlogText,
  decodeLinkCode,
  displayNameWithSite,
  fingerprintLines,
  lastContactText,
  LINK_CODE_PREFIX,
  linkLook,
  linkStateLabel,
  linksSummary,
  shareableLinks,
  withLinkStates,
} from './links';

const FP = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89';
const SECRET = 'S3cr3t-'.repeat(6);

/** A code as the server makes it: the prefix, then unpadded base64url of the JSON. */
function encode(body: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const b64 = btoa(String.fromCharCode(...bytes));
  return LINK_CODE_PREFIX + b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const invitation = (extra: Record<string, unknown> = {}) => ({
  v: 1,
  site: 'b6f1c1e2',
  name: 'Штаб HQ',
  addresses: ['10.0.0.5:8444', '[fd00::5]:8444'],
  fingerprint: FP,
  secret: SECRET,
  ...extra,
});

const link = (id: number, name: string, extra: Partial<LinkView> = {}): LinkView => ({
  id,
  site_id: `site-${id}`,
  name,
  fingerprint: FP,
  addresses: ['10.0.0.5:8444'],
  state: 'connected',
  last_contact_at: null,
  backlog_out: 0,
  backlog_in: 0,
  last_error: null,
  created_at: 0,
  ...extra,
});

const share = (link_id: number, site_name: string, extra: Partial<ChannelLink> = {}): ChannelLink => ({
  link_id,
  site_name,
  home: false,
  state: 'connected',
  last_contact_at: null,
  backlog_in: 0,
  backlog_out: 0,
  ...extra,
});

afterEach(() => setLocale('en'));

describe('decodeLinkCode', () => {
  it('reads the site, its name, addresses and fingerprint, never the secret', () => {
    const code = encode(invitation());
    const read = decodeLinkCode(code)!;
    expect(read).toEqual({
      code,
      site: 'b6f1c1e2',
      name: 'Штаб HQ',
      addresses: ['10.0.0.5:8444', '[fd00::5]:8444'],
      fingerprint: FP,
    });
    expect(JSON.stringify(read)).not.toContain(SECRET);
  });

  it('takes a code with the spaces and line breaks of copying, and sends it without them', () => {
    const code = encode(invitation());
    const pasted = `  ${code.slice(0, 30)}\n${code.slice(30, 70)} \r\n${code.slice(70)}\n`;
    expect(decodeLinkCode(pasted)?.code).toBe(code);
  });

  it('refuses what is not a complete invitation', () => {
    const code = encode(invitation());
    expect(decodeLinkCode('')).toBeNull();
    expect(decodeLinkCode('hello')).toBeNull();
    expect(decodeLinkCode(code.replace(LINK_CODE_PREFIX, 'outpost-invite:'))).toBeNull();
    expect(decodeLinkCode(LINK_CODE_PREFIX)).toBeNull();
    // Not base64url (padding, other alphabets), or not JSON.
    expect(decodeLinkCode(`${code}==`)).toBeNull();
    expect(decodeLinkCode(`${LINK_CODE_PREFIX}ab+c/d`)).toBeNull();
    expect(decodeLinkCode(`${LINK_CODE_PREFIX}${btoa('not json').replace(/=+$/, '')}`)).toBeNull();
    expect(decodeLinkCode(encode([1, 2]))).toBeNull();
    // Another version, or a field missing.
    expect(decodeLinkCode(encode(invitation({ v: 2 })))).toBeNull();
    expect(decodeLinkCode(encode(invitation({ addresses: [] })))).toBeNull();
    expect(decodeLinkCode(encode(invitation({ addresses: ['10.0.0.5', 7] })))).toBeNull();
    expect(decodeLinkCode(encode(invitation({ fingerprint: '' })))).toBeNull();
    expect(decodeLinkCode(encode(invitation({ site: undefined })))).toBeNull();
    expect(decodeLinkCode(encode(invitation({ secret: 'short' })))).toBeNull();
    expect(decodeLinkCode(encode(invitation({ secret: undefined })))).toBeNull();
    // Longer than the server takes.
    expect(decodeLinkCode(encode(invitation({ name: 'x'.repeat(5000) })))).toBeNull();
  });

  it('names a site without a name by its id', () => {
    expect(decodeLinkCode(encode(invitation({ name: '  ' })))?.name).toBe('b6f1c1e2');
  });
});

describe('fingerprintLines', () => {
  it('shows a SHA-256 fingerprint in four lines of eight bytes, upper case', () => {
    expect(fingerprintLines(FP)).toEqual([
      'AB:CD:EF:01:23:45:67:89',
      'AB:CD:EF:01:23:45:67:89',
      'AB:CD:EF:01:23:45:67:89',
      'AB:CD:EF:01:23:45:67:89',
    ]);
    expect(fingerprintLines(' aa:bb ')).toEqual(['AA:BB']);
    expect(fingerprintLines('')).toEqual([]);
  });
});

describe('displayNameWithSite', () => {
  it('adds the site of a person of a linked site', () => {
    expect(displayNameWithSite({ display_name: 'Anna', username: 'anna', site: 'HQ' })).toBe('Anna · HQ');
    expect(displayNameWithSite({ display_name: '', username: 'anna', site: 'HQ' })).toBe('anna · HQ');
    expect(displayNameWithSite({ display_name: 'Anna', username: 'anna' })).toBe('Anna');
    expect(displayNameWithSite({ display_name: 'Anna', username: 'anna', site: ' ' })).toBe('Anna');
    expect(displayNameWithSite({ display_name: 'Anna', username: 'anna', site: null })).toBe('Anna');
  });
});

describe('link states and backlog', () => {
  it('shows connected, down and paused; a state it does not know counts as down', () => {
    expect(['connected', 'disconnected', 'paused', 'frobnicated'].map(linkLook)).toEqual(['connected', 'down', 'paused', 'down']);
    expect(linkStateLabel('connected')).toBe('Connected');
    expect(linkStateLabel('disconnected')).toBe('Link down');
    expect(linkStateLabel('paused')).toBe('Paused');
    setLocale('ru');
    expect(linkStateLabel('disconnected')).toBe('Нет связи');
  });

  it('says how far behind a link is, each way, in either language', () => {
    expect(backlogText(0, 0)).toBe('Up to date');
    expect(backlogText(1, 0)).toBe('1 change to send');
    expect(backlogText(3, 12)).toBe('3 changes to send, 12 changes to receive');
    expect(backlogText(0, 1)).toBe('1 change to receive');
    setLocale('ru');
    expect(backlogText(0, 0)).toBe('Всё доставлено');
    expect(backlogText(21, 5)).toBe('21 изменение к отправке, 5 изменений к получению');
  });

  it('says when the sites were last in contact', () => {
    const now = Date.UTC(2026, 0, 2, 12, 0);
    expect(lastContactText(null, now, 'en')).toBe('Never');
    expect(lastContactText(now - 5 * 60_000, now, 'en')).toBe('5 minutes ago');
    expect(lastContactText(now - 10_000, now, 'en')).toBe('just now');
  });
});

describe('shareableLinks', () => {
  it('offers the links the channel is not shared with yet, by name', () => {
    const links = [link(1, 'Zeta'), link(2, 'Alpha'), link(3, 'Mid')];
    expect(shareableLinks(links, [share(1, 'Zeta')], 'en').map((l) => l.id)).toEqual([2, 3]);
    expect(shareableLinks(links, [share(1, 'Zeta'), share(2, 'Alpha'), share(3, 'Mid')])).toEqual([]);
  });
});

describe('linksSummary', () => {
  const now = Date.UTC(2026, 0, 2, 12, 0);

  it('is nothing while no linked site carries the channel', () => {
    expect(linksSummary([], now, 'en')).toBeNull();
  });

  it('names the sites a channel is shared with, or counts them', () => {
    expect(linksSummary([share(1, 'HQ')], now, 'en')?.text).toBe('Shared with HQ');
    expect(linksSummary([share(1, 'HQ'), share(2, 'Depot')], now, 'en')?.text).toBe('Shared with HQ and Depot');
    expect(linksSummary([share(1, 'HQ'), share(2, 'Depot'), share(3, 'Port')], now, 'en')?.text).toBe('Shared with 3 sites');
    setLocale('ru');
    expect(linksSummary([share(1, 'HQ'), share(2, 'Depot')], now, 'ru')?.text).toBe('Открыт для HQ и Depot');
    expect(linksSummary([share(1, 'a'), share(2, 'b'), share(3, 'c'), share(4, 'd'), share(5, 'e')], now, 'ru')?.text).toBe(
      'Открыт для 5 сайтов',
    );
  });

  it('names the home site of a channel this site takes part in', () => {
    const summary = linksSummary([share(1, 'HQ', { home: true })], now, 'en')!;
    expect(summary.text).toBe('Shared from HQ');
    expect(summary.home).toBe(true);
  });

  it('warns while a link is down or paused, with each site’s state and last contact in the tooltip', () => {
    const up = share(1, 'HQ', { last_contact_at: now - 60_000 });
    const down = share(2, 'Depot', { state: 'disconnected', last_contact_at: now - 2 * 3600_000 });
    const paused = share(3, 'Port', { state: 'paused' });
    expect(linksSummary([up], now, 'en')!.look).toBe('connected');
    expect(linksSummary([up, paused], now, 'en')!.look).toBe('paused');
    const summary = linksSummary([up, down, paused], now, 'en')!;
    expect(summary.look).toBe('down');
    expect(summary.title.split('\n')).toEqual([
      'HQ: Connected, last contact 1 minute ago',
      'Depot: Link down, last contact 2 hours ago',
      'Port: Paused, never in contact yet',
    ]);
  });
});

describe('withLinkStates', () => {
  it('keeps the states last seen for the shares an answer lists, from the links for new ones', () => {
    const known = [share(1, 'HQ', { state: 'paused', backlog_out: 4 })];
    const links = [link(2, 'Depot', { state: 'connected', last_contact_at: 99, backlog_in: 2 })];
    const shares = [
      { link_id: 1, site_name: 'HQ', home: false },
      { link_id: 2, site_name: 'Depot', home: false },
      { link_id: 3, site_name: 'Port', home: false },
    ];
    expect(withLinkStates(shares, known, links)).toEqual([
      share(1, 'HQ', { state: 'paused', backlog_out: 4 }),
      share(2, 'Depot', { state: 'connected', last_contact_at: 99, backlog_in: 2 }),
      share(3, 'Port', { state: 'disconnected' }),
    ]);
  });
});
