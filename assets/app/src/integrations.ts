// Webhooks and bot API tokens: small pure helpers for the views (the secret URL,
// ready-to-copy curl examples, names, the scopes of a new token, an outgoing webhook's
// trigger words and receiver URL).

import type { CreatedWebhook, TokenScope } from './api';

/** Where this server offers its CA certificate, and the file name curl's `--cacert` expects. */
export const CA_PATH = '/ca.pem';
export const CA_FILE = 'outpost-ca.pem';

/** What the webhook example posts. */
export const WEBHOOK_EXAMPLE_BODY = '{"text":"Disk full on db1","display_name":"Zabbix"}';

/** A word for a POSIX shell: as it is when it is safe bare, else in single quotes. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The full URL of a new webhook: its `path` on this page's origin. */
export function webhookUrl(created: Pick<CreatedWebhook, 'path' | 'token'>, origin: string): string {
  const path = created.path?.startsWith('/') ? created.path : `/api/v1/hooks/${encodeURIComponent(created.token)}`;
  return origin.replace(/\/+$/, '') + path;
}

/** A curl command that posts an example alert to a webhook's URL, checking the server with its CA. */
export function webhookCurl(url: string): string {
  return [
    'curl',
    '--cacert',
    CA_FILE,
    '-H',
    shellQuote('Content-Type: application/json'),
    '-d',
    shellQuote(WEBHOOK_EXAMPLE_BODY),
    shellQuote(url),
  ].join(' ');
}

/** A curl command that lists the bot's channels with its token, checking the server with its CA. */
export function botCurl(origin: string, token: string): string {
  return [
    'curl',
    '--cacert',
    CA_FILE,
    '-H',
    shellQuote(`Authorization: Bearer ${token}`),
    shellQuote(`${origin.replace(/\/+$/, '')}/api/v1/channels`),
  ].join(' ');
}

/**
 * A webhook's or a token's name as the server takes it (trimmed), or null when it is not
 * 1 to 64 characters without control characters.
 */
export function checkName(input: string): string | null {
  const name = input.trim();
  const length = [...name].length;
  if (length < 1 || length > 64 || /[\u0000-\u001f\u007f-\u009f]/.test(name)) return null;
  return name;
}

/**
 * A new account's user name as the server stores it (trimmed, lower case), or null when it
 * is not 1 to 32 letters, digits, dots, dashes or underscores starting with a letter or digit.
 */
export function checkUsername(input: string): string | null {
  const name = input.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9._-]{0,31}$/.test(name) ? name : null;
}

/** Every scope, in the order the UI lists them. */
export const SCOPES: readonly TokenScope[] = ['read', 'write', 'admin'];

/**
 * The scopes after ticking (`on`) or unticking one: `write` and `admin` include `read`, so
 * ticking either ticks `read` too, and unticking `read` unticks both. In the order of SCOPES.
 */
export function toggleScope(selected: readonly TokenScope[], scope: TokenScope, on: boolean): TokenScope[] {
  const next = new Set(selected);
  if (on) {
    next.add(scope);
    if (scope !== 'read') next.add('read');
  } else {
    next.delete(scope);
    if (scope === 'read') {
      next.delete('write');
      next.delete('admin');
    }
  }
  return SCOPES.filter((s) => next.has(s));
}

/** What is wrong with a new token's form, if anything: its name, or no scope chosen. */
export function newTokenProblem(name: string, scopes: readonly TokenScope[]): 'name' | 'scopes' | null {
  if (checkName(name) === null) return 'name';
  if (!scopes.some((s) => SCOPES.includes(s))) return 'scopes';
  return null;
}

/** At most this many trigger words per outgoing webhook, each at most TRIGGER_MAX characters. */
export const MAX_TRIGGERS = 10;
export const TRIGGER_MAX = 32;

/**
 * An outgoing webhook's trigger words from a space-separated input, or null when there are
 * not 1 to MAX_TRIGGERS of them or one is longer than TRIGGER_MAX characters.
 */
export function checkTriggerWords(input: string): string[] | null {
  const words = input.split(/\s+/).filter((w) => w !== '');
  if (words.length < 1 || words.length > MAX_TRIGGERS) return null;
  if (words.some((w) => [...w].length > TRIGGER_MAX || /[\u0000-\u001f\u007f-\u009f]/.test(w))) return null;
  return words;
}

/** An IPv4 address as the server parses one: four decimal numbers 0 to 255, no leading zeros. */
function isIPv4(host: string): boolean {
  return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(host);
}

/** An IPv6 address in brackets (`[fd00::1]`), checked by the browser's own URL parser. */
function isIPv6(host: string): boolean {
  if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host)) return false;
  try {
    return new URL(`http://${host}/`).hostname.startsWith('[');
  } catch {
    return false;
  }
}

/**
 * An outgoing webhook's receiver URL (trimmed), or null when it is not the shape the server
 * takes: `http://IP-ADDRESS[:PORT][/PATH]`, plain http to an IP address (Outpost resolves no
 * names), without spaces or a user name.
 */
export function checkReceiverUrl(input: string): string | null {
  const url = input.trim();
  const match = /^http:\/\/([^/?#]*)([/?#].*)?$/i.exec(url);
  if (!match || /[\s\u0000-\u001f\u007f-\u009f]/.test(url)) return null;
  const hostPort = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(match[1] ?? '');
  if (!hostPort) return null;
  const host = hostPort[1] ?? '';
  const port = hostPort[2];
  if (!isIPv4(host) && !isIPv6(host)) return null;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return null;
  return url;
}
