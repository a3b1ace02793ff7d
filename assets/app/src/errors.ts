// Turns any error thrown by the API client into one translated sentence.

import { ApiError, NetworkError, parseErrorDetail, type ErrorParams } from './api';
import { catalogs, getLocale, t, type Message, type MessageKey } from './i18n';
import { formatFileSize } from './format';

/**
 * Per-view messages, keyed by the error body's `code` (checked first) or by
 * HTTP status, e.g. `{ 'wrong-password': 'profile.password.wrongCurrent', 401: … }`.
 */
export type ErrorMessages = Partial<Record<string | number, MessageKey>>;

/**
 * Error codes that mean the same in every view. A view's own message for the code comes
 * first; these come before a view's message for the bare status (a 401 `wrong-code` at
 * sign-in is not "wrong user name or password").
 */
export const COMMON_ERRORS: ErrorMessages = {
  'wrong-password': 'error.wrongPassword',
  'wrong-code': 'error.wrongCode',
  'second-factor-required': 'error.secondFactorRequired',
  'two-factor-required': 'error.twoFactorRequired',
  'two-factor-enrolment-required': 'error.enrolmentRequired',
  'managed-by-directory': 'error.managedByDirectory',
  'bad-photo': 'error.badPhoto',
  'payload-too-large': 'error.payloadTooLarge',
  'account-disabled': 'error.accountDisabled',
  'not-editable': 'error.notEditable',
  'not-viewable': 'error.notViewable',
  // Made by the client itself (api.ts, chat/client.ts), whose own sentences are English only.
  'invalid-response': 'error.invalidResponse',
  disconnected: 'error.disconnected',
};

/**
 * Codes of docs/protocol.md ("Errors") whose sentence already exists under another key. Unlike
 * COMMON_ERRORS they come after a view's message for the status (a 401 at sign-in says "wrong
 * user name or password" in the view's own words).
 */
const CODE_ALIASES: ErrorMessages = {
  'invalid-credentials': 'login.wrongCredentials',
  'call-full': 'call.error.full',
  'calls-disabled': 'call.error.disabled',
  'rate-limited': 'error.tooManyAttemptsLater',
};

/**
 * Labels of the request fields a server error names (`field`), put before its sentence. Every
 * field the server names has one (errors.test.ts reads them out of the Rust sources).
 */
export const FIELD_LABELS: Readonly<Record<string, MessageKey>> = {
  'Upload-Offset': 'field.uploadOffset',
  about: 'field.about',
  also_in_channel: 'field.alsoInChannel',
  attachments: 'field.attachments',
  body: 'field.body',
  channel_id: 'field.channelId',
  client_id: 'field.clientId',
  // A linked site's invitation code (the only `code` field the server names).
  code: 'field.linkCode',
  department: 'field.department',
  display_name: 'field.displayName',
  dnd_schedule: 'field.dndSchedule',
  dnd_start: 'field.dndSchedule',
  dnd_end: 'field.dndSchedule',
  dnd_until: 'field.dndUntil',
  emoji: 'field.emoji',
  fingerprint: 'field.fingerprint',
  format: 'field.format',
  hours: 'field.hours',
  keywords: 'field.keywords',
  language: 'field.language',
  link_id: 'field.linkId',
  mass_mentions: 'field.massMentions',
  muted_until: 'field.mutedUntil',
  name: 'field.name',
  notify: 'field.notify',
  password: 'field.password',
  phone: 'field.phone',
  q: 'field.q',
  quote_of: 'field.quoteOf',
  retention_days: 'field.retentionDays',
  role: 'field.role',
  scopes: 'field.scopes',
  size: 'field.size',
  status: 'field.status',
  text: 'field.text',
  thread_root: 'field.threadRoot',
  time_zone: 'field.timeZone',
  title: 'field.jobTitle',
  topic: 'field.topic',
  triggers: 'field.triggers',
  url: 'field.url',
  user_id: 'field.userId',
  user_ids: 'field.userIds',
  username: 'field.username',
  waveform: 'field.waveform',
};

/** The alphabets a `mixed-script` error names, by the server's (English) names. */
const SCRIPTS: Readonly<Record<string, MessageKey>> = {
  Latin: 'script.Latin',
  Greek: 'script.Greek',
  Cyrillic: 'script.Cyrillic',
  Armenian: 'script.Armenian',
  Cherokee: 'script.Cherokee',
};

/** A refusal as the server described it (an HTTP error body or a WebSocket error frame). */
export interface Problem {
  /** HTTP status; 0 or absent for a WebSocket frame. */
  status?: number;
  code: string;
  field?: string | null;
  params?: ErrorParams;
  /** The server's English sentence: shown only to someone reading English, for an unknown code. */
  message?: string;
  retryAfter?: number | null;
}

function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(catalogs.en, key);
}

/** The `{name}` placeholders of a message (all plural forms). */
function placeholders(message: Message): string[] {
  const texts = typeof message === 'string' ? [message] : Object.values(message);
  return texts.flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? ''));
}

/**
 * The key of a code's own sentence: COMMON_ERRORS or an alias, else the first of
 * `error.code.<code>.<field>`, `error.code.<code>`, `error.code.<code>.plain` whose placeholders
 * the server's params fill (an older server sends no params: the plain sentence then).
 * Null for a code this client does not know.
 */
export function codeMessageKey(code: string, field: string | null = null, params: ErrorParams = {}): MessageKey | null {
  const known = COMMON_ERRORS[code] ?? CODE_ALIASES[code];
  if (known) return known;
  const candidates = [field ? `error.code.${code}.${field}` : '', `error.code.${code}`, `error.code.${code}.plain`];
  for (const candidate of candidates) {
    if (!candidate || !isMessageKey(candidate)) continue;
    const needed = placeholders(catalogs.en[candidate]);
    if (needed.every((name) => Object.prototype.hasOwnProperty.call(params, name))) return candidate;
  }
  return null;
}

/** Words that keep their capital after "Label: " (names, not the start of a sentence). */
const PROPER_WORDS = new Set(['Outpost']);

/** "Use 1 to 64 characters." after a label reads "Name: use 1 to 64 characters." */
function lowerFirst(text: string): string {
  const word = /^(\p{Lu})(\p{Ll}*)(?=[^\p{L}]|$)/u.exec(text);
  if (!word || PROPER_WORDS.has(word[0])) return text;
  return text.charAt(0).toLocaleLowerCase(getLocale()) + text.slice(1);
}

/** The server's params in the current language (alphabet names), with `n` for plural forms. */
function localParams(code: string, params: ErrorParams): ErrorParams {
  const local: ErrorParams = { ...params };
  if (code === 'mixed-script') {
    for (const name of ['first', 'second']) {
      const value = params[name];
      if (value === undefined) continue;
      const script = SCRIPTS[String(value)];
      // An alphabet this client does not know: its English name is fine in English only.
      local[name] = script ? t(script) : getLocale() === 'en' ? value : t('script.other');
    }
  }
  // Sizes in the reader's units ("25 MB" / "25 МБ"), not raw byte counts.
  for (const name of ['max_bytes', 'used_bytes']) {
    const bytes = Number(params[name]);
    if (params[name] !== undefined && Number.isFinite(bytes)) local[name] = formatFileSize(bytes, getLocale());
  }
  const max = Number(params.max);
  if (Number.isFinite(max)) local.n = max;
  return local;
}

/** Server sentences are lower-case fragments ("sign in to continue"): make them read as sentences. */
function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const first = trimmed.charAt(0).toLocaleUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

/** What a status means, for a code this client does not know. */
function statusSentence(status: number): string {
  if (status >= 500 && status <= 599) return t('error.status.5xx');
  const key = `error.status.${status}`;
  if (isMessageKey(key)) return t(key);
  // A WebSocket frame has no status.
  if (status === 0) return t('error.refused');
  return t('error.unexpected', { status });
}

/**
 * One translated sentence for a refusal. In order: the view's message for the code, a common
 * one (COMMON_ERRORS), the view's message for the status, the retry delay of a 429, the code's
 * own sentence (prefixed by the field's label when the server named one), then a sentence for
 * the status. Only in English may the server's own sentence stand in for an unknown code.
 */
export function describeProblem(problem: Problem, messages: ErrorMessages = {}): string {
  const status = problem.status ?? 0;
  const { field, params } = parseErrorDetail({ field: problem.field, params: problem.params });
  const key = messages[problem.code] ?? COMMON_ERRORS[problem.code] ?? (status ? messages[status] : undefined);
  if (key) return t(key);
  if (status === 429 || problem.code === 'rate-limited') {
    return problem.retryAfter != null
      ? t('error.tooManyAttempts', { n: problem.retryAfter })
      : t('error.tooManyAttemptsLater');
  }
  const own = codeMessageKey(problem.code, field, params);
  if (own) {
    const text = t(own, localParams(problem.code, params));
    const label = field ? FIELD_LABELS[field] : undefined;
    return label ? t('error.withField', { field: t(label), message: lowerFirst(text) }) : text;
  }
  const message = problem.message?.trim() ?? '';
  if (message && getLocale() === 'en') return sentence(message);
  return statusSentence(status);
}

export function describeError(err: unknown, messages: ErrorMessages = {}): string {
  if (err instanceof NetworkError) return t('error.network');
  if (err instanceof ApiError) {
    return describeProblem(
      {
        status: err.status,
        code: err.code,
        field: err.field,
        params: err.params,
        message: err.message,
        retryAfter: err.retryAfter,
      },
      messages,
    );
  }
  return t('error.generic');
}

/** True when the error means "not signed in" (no, expired or revoked session). */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}
