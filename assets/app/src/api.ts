// Typed client for the Outpost HTTP API (`/api/v1`).
//
// Every call goes through `request()`: same-origin cookies, JSON in and out.
// A non-2xx answer becomes an `ApiError` carrying the HTTP status and the
// server's `{"error":{"code","message","field"?,"params"?}}` body; a request that never got an
// answer (server down, connection lost) becomes a `NetworkError`.

export const API_BASE = '/api/v1';

export interface User {
  id: number;
  username: string;
  display_name: string;
  is_admin: boolean;
  disabled: boolean;
  created_at: string;
  /** Signs in with an authenticator app as well as the password (absent from servers before two-step sign-in). */
  two_factor?: boolean;
  /**
   * The administrator requires two-step sign-in of this user and they have not set it up:
   * until they do, every other call answers 403 `two-factor-enrolment-required`. Only set
   * on the signed-in user's own view (`GET /me`).
   */
  two_factor_required?: boolean;
  /** A bot account: signs in with API tokens only (absent from servers before bots: not a bot). */
  is_bot?: boolean;
  /** Profile (absent from servers before profiles: empty). `about` may hold newlines. */
  title?: string;
  department?: string;
  phone?: string;
  about?: string;
  /**
   * The small (96×96) photo, e.g. `/api/v1/users/7/photo?v=…`; `&size=large` gives the large one.
   * Changes whenever the photo does. Null or absent: no photo.
   */
  photo_url?: string | null;
  /** An account from the organisation's directory (LDAP). */
  from_directory?: boolean;
  /** Only on the user's own view: the profile fields the directory sets, which cannot be changed here. */
  managed_fields?: ProfileField[];
  /** The custom status (absent from servers before statuses; null: none). */
  status?: Status | null;
  /** RFC 3339; null if never signed in. */
  last_sign_in_at?: string | null;
  /** A person of a linked site: that site's name (they sign in there, never here). Absent: this site's. */
  site?: string;
}

/** A custom status: one emoji (or none) and a short text, until `expires_at` (ms) or for good (null). */
export interface Status {
  emoji: string;
  text: string;
  expires_at: number | null;
}

/** How long a custom status lasts ("today" and "week" end in the person's time zone). */
export type ClearAfter = '30m' | '1h' | '4h' | 'today' | 'week' | 'never';

/** `PUT /me/status`. */
export interface StatusUpdate {
  /** One emoji, or empty. */
  emoji: string;
  /** Up to 100 characters. */
  text: string;
  clear_after: ClearAfter;
  /** The device's IANA time zone, for "today" and "week" when the preferences name none. */
  time_zone?: string;
}

/** The UI language a person chose; empty: the browser's. */
export type Language = 'en' | 'ru' | '';

/** `GET/PATCH /me/preferences`: the same on every device. */
export interface Preferences {
  /** IANA name ("Europe/Moscow"); empty: the browser's. */
  time_zone: string;
  /** Do not disturb until this time (ms); null: off. */
  dnd_until: number | null;
  /** A daily quiet time in `time_zone`, "HH:MM" (both null: none); may pass midnight. */
  dnd_start: string | null;
  dnd_end: string | null;
  /** Words that notify like a mention (whole words, any case; the server lower-cases them). */
  keywords: string[];
  /** Others in direct conversations see how far this person has read. */
  read_receipts: boolean;
  language: Language;
}

/** `PATCH /me/preferences`: only the fields given change (`dnd_start` and `dnd_end` together). */
export type PreferencesUpdate = Partial<Preferences>;

/** A profile field the directory may manage. */
export type ProfileField = 'display_name' | 'title' | 'department' | 'phone' | 'photo';

/** `PATCH /me` and `PATCH /users/{id}/profile`: only the fields given change. */
export interface ProfileUpdate {
  display_name?: string;
  title?: string;
  department?: string;
  phone?: string;
  about?: string;
}

export interface Session {
  id: string;
  created_at: string;
  last_seen_at: string;
  user_agent: string;
  address: string;
  current: boolean;
}

export interface LoginResponse {
  token: string;
  user: User;
}

export interface LoginRequest {
  username: string;
  password: string;
  /** The second factor, once the server asked for it: a 6-digit app code or a recovery code. */
  code?: string;
}

/** `POST /me/two-factor`: an authenticator app to confirm with its first code. */
export interface TwoFactorEnrolment {
  /** The key in base32, for typing into an app that cannot scan. */
  secret: string;
  /** `otpauth://totp/…`, what the QR code holds. */
  uri: string;
  /** The URI as a QR code: an SVG document drawn by the server. */
  qr_svg: string;
}

/** One-time codes for signing in without the phone, shown once. */
export interface RecoveryCodes {
  recovery_codes: string[];
}

/** What an API token may do: `write` and `admin` include `read`. */
export type TokenScope = 'read' | 'write' | 'admin';

/** A bot's API token (never its secret). Times are RFC 3339. */
export interface ApiToken {
  id: number;
  name: string;
  scopes: TokenScope[];
  created_at: string;
  last_used_at: string | null;
}

/** `POST /bots/{id}/tokens`: the new token with its secret, shown once. */
export interface CreatedApiToken extends ApiToken {
  token: string;
}

/** `GET /bots`: a bot account with its tokens. */
export interface Bot {
  user: User;
  tokens: ApiToken[];
}

/** Who must sign in with an authenticator app. */
export type TwoFactorPolicy = 'off' | 'admins' | 'everyone';

/** `GET/PUT /admin/settings`. */
export interface AdminSettings {
  two_factor_policy: TwoFactorPolicy;
  /** Days messages are kept in channels without their own setting (0: forever; absent on older servers). */
  retention_days?: number;
  /** True while `retention_days` is the configuration file's value. */
  retention_from_config?: boolean;
}

/** `PUT /admin/settings`: only the fields given change; `retention_days` null follows the configuration file. */
export interface AdminSettingsUpdate {
  two_factor_policy?: TwoFactorPolicy;
  retention_days?: number | null;
}

export interface InviteInfo {
  valid: boolean;
  expires_at: string;
}

export interface CreatedInvite {
  token: string;
  /** Full link, e.g. `https://host/invite/TOKEN` (when the server sends it). */
  url?: string;
  /** Path of the invite page, e.g. `/invite/TOKEN` (when the server sends it). */
  path?: string;
  expires_at: string;
}

/**
 * The link to hand out for a new invite: the server's full `url` if given,
 * else its `path` (or `/invite/TOKEN`) on this page's origin.
 */
export function inviteLink(invite: CreatedInvite, origin: string): string {
  if (invite.url) return invite.url;
  const path = invite.path?.startsWith('/') ? invite.path : `/invite/${encodeURIComponent(invite.token)}`;
  return origin.replace(/\/+$/, '') + path;
}

/** The values a translated error sentence needs (`max`, `char`, `first`/`second`, …). */
export type ErrorParams = Record<string, string | number>;

/** The server answered with a non-success status (or refused a WebSocket request: status 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status code; 0 for a WebSocket error frame, which has none. */
    readonly status: number,
    /** Machine-readable kebab-case code from the error body (or `http-<status>`). */
    readonly code: string,
    /** Human sentence from the server (English; never shown to someone reading another language); may be empty. */
    message: string,
    /** Seconds from the `Retry-After` header, when present and valid. */
    readonly retryAfter: number | null = null,
    /** The request field at fault (`topic`, `display_name`, …), when the server named one. */
    readonly field: string | null = null,
    /** The values the translated sentence needs; empty when none. */
    readonly params: ErrorParams = {},
  ) {
    super(message);
  }
}

/**
 * The `field` and `params` of an error body or WebSocket error frame, tolerating any shape:
 * only a non-empty string field and string or finite number values are kept.
 */
export function parseErrorDetail(detail: unknown): { field: string | null; params: ErrorParams } {
  const params: ErrorParams = {};
  if (!detail || typeof detail !== 'object') return { field: null, params };
  const { field, params: raw } = detail as { field?: unknown; params?: unknown };
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) params[name] = value;
    }
  }
  return { field: typeof field === 'string' && field !== '' ? field : null, params };
}

/** The request did not get any HTTP answer. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(readonly cause?: unknown) {
    super('network error');
  }
}

/**
 * Parses a `Retry-After` header value: either delay-seconds or an HTTP date.
 * Returns whole seconds (>= 0), or null when absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value == null) return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (/^\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
  // HTTP-date form; require a letter so plain numbers like "-5" or "1.5" are rejected.
  if (!/[a-z]/i.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * Builds an ApiError from a failed response's status, body text and
 * `Retry-After` header. Tolerates empty, non-JSON and differently shaped
 * bodies (e.g. from a proxy in front of the server).
 */
export function parseApiError(
  status: number,
  bodyText: string,
  retryAfterHeader: string | null = null,
  now: number = Date.now(),
): ApiError {
  let code = `http-${status}`;
  let message = '';
  let detail: ReturnType<typeof parseErrorDetail> = { field: null, params: {} };
  if (bodyText) {
    try {
      const body: unknown = JSON.parse(bodyText);
      const err = (body as { error?: unknown } | null)?.error;
      if (err && typeof err === 'object') {
        const c = (err as { code?: unknown }).code;
        const m = (err as { message?: unknown }).message;
        if (typeof c === 'string' && c !== '') code = c;
        if (typeof m === 'string') message = m;
        detail = parseErrorDetail(err);
      }
    } catch {
      // Not JSON: keep the generic code.
    }
  }
  return new ApiError(status, code, message, parseRetryAfter(retryAfterHeader, now), detail.field, detail.params);
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The fetch implementation; replaceable in tests. */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

let fetchImpl: Fetch = (input, init) => globalThis.fetch(input, init);

export function setFetch(impl: Fetch): void {
  fetchImpl = impl;
}

/** The error code of every call but enrolling while the administrator requires two-step sign-in. */
export const ENROLMENT_REQUIRED = 'two-factor-enrolment-required';

const enrolmentListeners = new Set<() => void>();

/**
 * Calls `listener` whenever an answer says the user must set up two-step sign-in first
 * (the administrator started requiring it during the session). Returns the unsubscribe function.
 */
export function onEnrolmentRequired(listener: () => void): () => void {
  enrolmentListeners.add(listener);
  return () => {
    enrolmentListeners.delete(listener);
  };
}

/**
 * Performs one API call. `path` is relative to `/api/v1` (e.g. `/me`).
 * Resolves with the parsed JSON body, or `undefined` for 204 / empty bodies.
 */
export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (typeof Blob !== 'undefined' && body instanceof Blob) {
    // Raw bytes (an image), sent as they are.
    headers['Content-Type'] = body.type || 'application/octet-stream';
    init.body = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let res: Response;
  try {
    res = await fetchImpl(API_BASE + path, init);
  } catch (cause) {
    throw new NetworkError(cause);
  }

  let text: string;
  try {
    text = await res.text();
  } catch (cause) {
    throw new NetworkError(cause);
  }

  if (!res.ok) {
    const err = parseApiError(res.status, text, res.headers.get('Retry-After'));
    if (err.code === ENROLMENT_REQUIRED) for (const listener of [...enrolmentListeners]) listener();
    throw err;
  }
  if (res.status === 204 || text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'invalid-response', 'The server sent an invalid response.');
  }
}

const seg = encodeURIComponent;

// ---- a sign-out the server has not heard of yet -------------------------------------------
//
// Signing out while the server cannot be reached ends the session on this device at once, but
// the server keeps it until told. The session cookie is HttpOnly and stays in the browser, so
// the logout can still be sent later: the marker below (which holds no secret) says one is owed.
// It goes before anything else the next time the app starts or someone signs in here, since a
// new session replaces the cookie and the old one could then never be ended from here.

export const LOGOUT_PENDING_KEY = 'outpost.logoutPending';

function markerStore(): Storage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

/** Whether this browser owes the server a logout (signed out while it could not be reached). */
export function logoutPending(): boolean {
  try {
    return (markerStore()?.getItem(LOGOUT_PENDING_KEY) ?? null) !== null;
  } catch {
    return false;
  }
}

function setLogoutPending(pending: boolean): void {
  try {
    if (pending) markerStore()?.setItem(LOGOUT_PENDING_KEY, '1');
    else markerStore()?.removeItem(LOGOUT_PENDING_KEY);
  } catch {
    // Storage refused: the session then simply lapses after the server's idle time.
  }
}

/** No answer, or a proxy or server failure: the session may still be there. */
function unreached(err: unknown): boolean {
  return err instanceof NetworkError || (err instanceof ApiError && err.status >= 500);
}

let ending: Promise<boolean> | null = null;

/**
 * Ends the server session (POST logout). True once it is over: ended now, or already gone
 * (401 and other refusals say the server has no such session to keep). False when the server
 * could not be reached: the logout is then remembered and `endPendingLogout` sends it again.
 */
export function endServerSession(): Promise<boolean> {
  // One request at a time: the start-up, the sign-in page and a sign-in may all ask at once.
  ending ??= request<void>('POST', '/auth/logout')
    .then(
      () => true,
      (err: unknown) => !unreached(err),
    )
    .then((ended) => {
      setLogoutPending(!ended);
      return ended;
    })
    .finally(() => {
      ending = null;
    });
  return ending;
}

/** Sends the logout this browser owes, if any; true when none is owed any more. */
export function endPendingLogout(): Promise<boolean> {
  return logoutPending() ? endServerSession() : Promise.resolve(true);
}

/** Starts a session: the logout owed for the earlier one first, while its cookie is still the one sent. */
async function signingIn<T>(send: () => Promise<T>): Promise<T> {
  await endPendingLogout();
  const answer = await send();
  // The new session's cookie replaced the old one, which can no longer be ended from here.
  setLogoutPending(false);
  return answer;
}

/** The API endpoints used by the web app. */
export const api = {
  setup: (body: { token: string; username: string; display_name: string; password: string }) =>
    signingIn(() => request<unknown>('POST', '/auth/setup', body)),
  login: (body: LoginRequest) => signingIn(() => request<LoginResponse>('POST', '/auth/login', body)),
  logout: () => request<void>('POST', '/auth/logout'),
  acceptInvite: (body: { token: string; username: string; display_name: string; password: string }) =>
    signingIn(() => request<LoginResponse>('POST', '/auth/invite', body)),
  getInvite: (token: string) => request<InviteInfo>('GET', `/invites/${seg(token)}`),

  me: () => request<User>('GET', '/me'),
  updateMe: (body: ProfileUpdate) => request<User>('PATCH', '/me', body),
  /** The raw image file as the body; the server crops it square. */
  setMyPhoto: (image: Blob) => request<User>('PUT', '/me/photo', image),
  removeMyPhoto: () => request<User>('DELETE', '/me/photo'),
  /** Anyone's profile (any signed-in user may look), as the people list shows people. */
  user: (id: number) => request<PersonView>('GET', `/users/${seg(String(id))}`),
  setStatus: (body: StatusUpdate) =>
    request<User>('PUT', '/me/status', { time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone, ...body }),
  clearStatus: () => request<User>('DELETE', '/me/status'),
  preferences: () => request<Preferences>('GET', '/me/preferences'),
  updatePreferences: (body: PreferencesUpdate) => request<Preferences>('PATCH', '/me/preferences', body),
  changePassword: (body: { current_password: string; new_password: string }) =>
    request<void>('PUT', '/me/password', body),
  beginTwoFactor: (body: { password: string }) =>
    request<TwoFactorEnrolment>('POST', '/me/two-factor', body),
  confirmTwoFactor: (body: { code: string }) =>
    request<RecoveryCodes>('POST', '/me/two-factor/confirm', body),
  disableTwoFactor: (body: { password: string }) => request<void>('DELETE', '/me/two-factor', body),
  newRecoveryCodes: (body: { password: string }) =>
    request<RecoveryCodes>('POST', '/me/two-factor/recovery-codes', body),

  sessions: () => request<Session[]>('GET', '/sessions'),
  revokeSession: (id: string) => request<void>('DELETE', `/sessions/${seg(id)}`),

  users: () => request<User[]>('GET', '/users'),
  disableUser: (id: number) => request<void>('POST', `/users/${seg(String(id))}/disable`),
  enableUser: (id: number) => request<void>('POST', `/users/${seg(String(id))}/enable`),
  resetTwoFactor: (id: number) => request<void>('DELETE', `/users/${seg(String(id))}/two-factor`),
  updateProfile: (id: number, body: ProfileUpdate) =>
    request<User>('PATCH', `/users/${seg(String(id))}/profile`, body),
  setUserPhoto: (id: number, image: Blob) => request<User>('PUT', `/users/${seg(String(id))}/photo`, image),
  removeUserPhoto: (id: number) => request<User>('DELETE', `/users/${seg(String(id))}/photo`),
  adminSettings: () => request<AdminSettings>('GET', '/admin/settings'),
  updateAdminSettings: (body: AdminSettingsUpdate) => request<AdminSettings>('PUT', '/admin/settings', body),
  createInvite: (body: { expires_in_hours: number }) =>
    request<CreatedInvite>('POST', '/invites', body),

  bots: () => request<Bot[]>('GET', '/bots'),
  createBot: (body: { username: string; display_name?: string }) => request<User>('POST', '/bots', body),
  createToken: (botId: number, body: { name: string; scopes: TokenScope[] }) =>
    request<CreatedApiToken>('POST', `/bots/${seg(String(botId))}/tokens`, body),
  revokeToken: (tokenId: number) => request<void>('DELETE', `/tokens/${seg(String(tokenId))}`),
};

// ---- Chat ---------------------------------------------------------------

export type ChannelKind = 'public' | 'private' | 'dm' | 'group';

/** Who may notify a whole channel with @channel, @here or @all. */
export type MassMentions = 'everyone' | 'owners';

export interface ChannelInfo {
  id: number;
  kind: ChannelKind;
  name: string | null;
  topic: string;
  archived: boolean;
  last_seq: number;
  created_at: number;
  /** Absent from servers before this setting: everyone. */
  mass_mentions?: MassMentions;
}

/** What a member is notified of in one conversation. */
export type NotifyLevel = 'all' | 'mentions' | 'none';

/** `muted_until` of a conversation muted until its member unmutes it (2100-01-01). */
export const MUTED_FOR_GOOD = 4102444800000;

/** A channel as the requesting member sees it. */
export interface Channel extends ChannelInfo {
  role: 'owner' | 'member';
  last_read_seq: number;
  unread: number;
  mentions: number;
  /** Members of direct conversations (empty for channels). */
  member_ids: number[];
  /** Absent from servers before per-conversation notifications: all. */
  notify?: NotifyLevel;
  /** Muted until this time (ms; `MUTED_FOR_GOOD`: until unmuted); null or absent: not muted. */
  muted_until?: number | null;
}

/** How far another member of a direct conversation has read (`read_at` in ms; null if never). */
export interface Receipt {
  user_id: number;
  seq: number;
  read_at: number | null;
}

export interface BrowseEntry extends ChannelInfo {
  joined: boolean;
  member_count: number;
}

export interface Reaction {
  emoji: string;
  count: number;
  user_ids: number[];
}

export interface Message {
  id: number;
  channel_id: number;
  seq: number;
  author_id: number | null;
  client_id: string | null;
  kind: 'text' | 'system' | string;
  body: string;
  thread_root: number | null;
  reply_count: number;
  last_reply_at: number | null;
  created_at: number;
  edited_at: number | null;
  edited: boolean;
  deleted: boolean;
  pinned: boolean;
  reactions: Reaction[];
  /** Attachments in the sender's order (absent from servers before file attachments). */
  files?: FileView[];
  /**
   * Posted by another system through an incoming webhook (`author_id` is then null): the
   * sender name to show, which the poster may choose.
   */
  sender_name?: string;
  /** The webhook that posted it, while it still exists. */
  webhook_id?: number;
  /** The message of this conversation it answers, as that message is now. */
  quote?: QuoteView;
  /** Where a forwarded message came from, as it was when forwarded. */
  forwarded?: ForwardView;
  /** A thread reply also listed in the channel. */
  also_in_channel?: boolean;
  /**
   * The order every linked site agrees on (a hybrid logical clock): a conversation's messages
   * sort by it, then by `seq` (absent from servers before linked sites: `seq` order).
   */
  sort_key?: number;
  /** Arrived from a linked site after messages that sort after it (the link was down). */
  late?: boolean;
}

/** How the UI presents a file: the server decides from the content, not the name. */
export type FileKind = 'image' | 'video' | 'audio' | 'file';

/** A stored file, attached to a message (or uploaded and not sent yet). URLs are same-origin. */
export interface FileView {
  id: string;
  name: string;
  size: number;
  mime: string;
  kind: FileKind | string;
  /** Pixels (orientation applied); for video as the sender's browser measured. */
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  /** The content (supports Range requests). */
  url: string;
  /** Photo thumbnail (at most 480 px). */
  thumb_url: string | null;
  /** Photo preview (at most 1600 px), for photos larger than that. */
  preview_url: string | null;
  /** Video poster frame. */
  poster_url: string | null;
  /** A recording's loudness over time (0-255 each), for its waveform. */
  waveform?: number[];
  /** Recorded as a voice message. */
  voice?: boolean;
}

/** An upload in progress (`/api/v1/uploads`). */
export interface UploadView {
  id: string;
  size: number;
  /** Bytes the server holds: the next chunk starts here. */
  offset: number;
  url: string;
  /** The chunk size the server suggests. */
  chunk_bytes: number;
  /** The stored file, in the answer to the last chunk. */
  file: FileView | null;
}

export interface NewUpload {
  name: string;
  size: number;
  mime?: string;
  width?: number;
  height?: number;
  duration_ms?: number;
  /** A voice message's loudness over time: at most 128 values of 0-255. */
  waveform?: number[];
  /** Recorded as a voice message. */
  voice?: boolean;
}

export type Presence = 'online' | 'away' | 'offline';

/**
 * A person as everyone signed in sees them (`GET /people`, `GET /users/{id}`, `user.updated`
 * frames). The people list includes deactivated accounts, so their messages keep a name.
 */
export interface Person {
  id: number;
  username: string;
  display_name: string;
  presence: Presence;
  /** A bot account (absent from servers before bots: not a bot). */
  is_bot?: boolean;
  /** A disabled account: shown on its messages, cannot be messaged (absent: active). */
  deactivated?: boolean;
  /** Absent from servers before profiles. `about` may hold newlines. */
  title?: string;
  department?: string;
  phone?: string;
  about?: string;
  /** The small photo (see `User.photo_url`); null or absent: initials. */
  photo_url?: string | null;
  /** The custom status; null or absent: none. */
  status?: Status | null;
  /** The IANA time zone the person chose, for their local time; empty or absent: none. */
  time_zone?: string;
  /** A person of a linked site: that site's name, shown as "Anna · HQ". Absent: this site's. */
  site?: string;
}

/** The server's name for a person's public view. */
export type PersonView = Person;

/** A channel's incoming webhook (never its secret). Times are RFC 3339. */
export interface Webhook {
  id: number;
  channel_id: number;
  name: string;
  created_by: number | null;
  created_at: string;
  last_used_at: string | null;
}

/** `POST /channels/{id}/webhooks`: the new webhook and its secret URL, shown once. */
export interface CreatedWebhook {
  webhook: Webhook;
  token: string;
  /** Where to post, on this server: `/api/v1/hooks/{token}`. */
  path: string;
}

/**
 * An outgoing webhook (administrators only): a person's message in its channel whose first
 * word is a trigger word is POSTed to `url`, with `secret` as `token`. Times are RFC 3339.
 */
export interface OutgoingWebhook {
  id: number;
  channel_id: number;
  name: string;
  trigger_words: string[];
  /** `http://IP-ADDRESS[:PORT]/PATH` on the LAN. */
  url: string;
  secret: string;
  created_by: number | null;
  created_at: string;
}

export interface SearchHit {
  message: Message;
  /** Text around the match; highlighted words are between U+E000 and U+E001. */
  snippet: string;
}

export interface ServerInfo {
  site_name: string;
  version: string;
  ca_fingerprint: string;
  needs_setup: boolean;
  /** The plain-HTTP port of the onboarding page (`http://HOST:PORT/`); null or absent: off. */
  http_port?: number | null;
  /**
   * Days an unused session lasts: how long this device may show its offline copy without
   * hearing from the server (absent from older servers).
   */
  session_idle_days?: number;
}

/** `GET /api/v1/admin/status` (administrators). */
export interface AdminStatus {
  version: string;
  uptime_seconds: number;
  open_connections: number;
  messages_total: number;
  messages_per_second: number;
  active_calls: number;
  database_bytes: number;
  file_store_bytes: number;
  backup_age_seconds: number | null;
  certificate_expires_in_seconds: number;
  users: number;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor_id: number | null;
  actor: string;
  action: string;
  target: string;
  address: string;
  details: string;
}

export interface SearchParams {
  q: string;
  channel_id?: number | null;
  author_id?: number | null;
  from?: number | null;
  to?: number | null;
  limit?: number | null;
}

/** `?a=1&b=2` from the defined, non-null values (or '' when none). */
export function query(params: Record<string, string | number | null | undefined>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '') continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

const id = (n: number) => seg(String(n));

export const chatApi = {
  channels: () => request<Channel[]>('GET', '/channels'),
  channel: (channelId: number) => request<Channel>('GET', `/channels/${id(channelId)}`),
  browse: () => request<BrowseEntry[]>('GET', '/channels/browse'),
  createChannel: (body: { name: string; topic?: string; private?: boolean }) =>
    request<Channel>('POST', '/channels', body),
  updateChannel: (
    channelId: number,
    body: { name?: string; topic?: string; archived?: boolean; mass_mentions?: MassMentions },
  ) => request<ChannelInfo>('PATCH', `/channels/${id(channelId)}`, body),
  setNotifications: (channelId: number, body: { notify: NotifyLevel; muted_until: number | null }) =>
    request<void>('PUT', `/channels/${id(channelId)}/notifications`, body),
  receipts: (channelId: number) => request<Receipt[]>('GET', `/channels/${id(channelId)}/receipts`),
  join: (channelId: number) => request<void>('POST', `/channels/${id(channelId)}/join`),
  leave: (channelId: number) => request<void>('POST', `/channels/${id(channelId)}/leave`),
  members: (channelId: number) => request<number[]>('GET', `/channels/${id(channelId)}/members`),
  addMember: (channelId: number, userId: number) =>
    request<void>('POST', `/channels/${id(channelId)}/members`, { user_id: userId }),
  openDirect: (userIds: number[]) => request<Channel>('POST', '/dms', { user_ids: userIds }),
  messages: (channelId: number, params: { before?: number; after?: number; limit?: number }) =>
    request<Message[]>('GET', `/channels/${id(channelId)}/messages${query(params)}`),
  thread: (messageId: number) => request<Message[]>('GET', `/messages/${id(messageId)}/thread`),
  markRead: (channelId: number, seq: number) =>
    request<unknown>('POST', `/channels/${id(channelId)}/read`, { seq }),
  postMessage: (
    channelId: number,
    body: {
      body: string;
      client_id?: string;
      thread_root?: number | null;
      attachments?: string[];
      quote_of?: number;
      also_in_channel?: boolean;
    },
  ) =>
    request<Message>('POST', `/channels/${id(channelId)}/messages`, body),
  editMessage: (messageId: number, body: string) =>
    request<Message>('PATCH', `/messages/${id(messageId)}`, { body }),
  deleteMessage: (messageId: number) => request<Message>('DELETE', `/messages/${id(messageId)}`),
  react: (messageId: number, emoji: string) =>
    request<Message>('POST', `/messages/${id(messageId)}/reactions`, { emoji }),
  pins: (channelId: number) => request<Message[]>('GET', `/channels/${id(channelId)}/pins`),
  pin: (messageId: number) => request<Message>('POST', `/messages/${id(messageId)}/pin`),
  unpin: (messageId: number) => request<Message>('DELETE', `/messages/${id(messageId)}/pin`),
  mentions: (params: { before_id?: number; limit?: number } = {}) =>
    request<Message[]>('GET', `/mentions${query(params)}`),
  search: (params: SearchParams) =>
    request<SearchHit[]>('GET', `/search${query({ ...params })}`),
  people: () => request<Person[]>('GET', '/people'),
  server: () => request<ServerInfo>('GET', '/server'),
  adminStatus: () => request<AdminStatus>('GET', '/admin/status'),
  audit: (params: { before_id?: number; limit?: number } = {}) =>
    request<AuditEntry[]>('GET', `/admin/audit${query(params)}`),
  webhooks: (channelId: number) => request<Webhook[]>('GET', `/channels/${id(channelId)}/webhooks`),
  createWebhook: (channelId: number, body: { name: string }) =>
    request<CreatedWebhook>('POST', `/channels/${id(channelId)}/webhooks`, body),
  deleteWebhook: (webhookId: number) => request<void>('DELETE', `/webhooks/${id(webhookId)}`),
  outgoingWebhooks: () => request<OutgoingWebhook[]>('GET', '/outgoing-webhooks'),
  createOutgoingWebhook: (channelId: number, body: { name: string; trigger_words: string[]; url: string }) =>
    request<OutgoingWebhook>('POST', `/channels/${id(channelId)}/outgoing-webhooks`, body),
  deleteOutgoingWebhook: (hookId: number) => request<void>('DELETE', `/outgoing-webhooks/${id(hookId)}`),
};

// ---- Message actions: quote, forward, saved, edit history ------------------

/** A compact preview of a quoted message, as it is now (`excerpt` empty once deleted). */
export interface QuoteView {
  id: number;
  author_id: number | null;
  sender_name: string | null;
  excerpt: string;
  deleted: boolean;
  has_files: boolean;
}

/** The origin of a forwarded message (`message_id` null once the original is gone). */
export interface ForwardView {
  message_id: number | null;
  channel_id: number;
  author_id: number | null;
  author_name: string;
  /** When the original was sent (ms). */
  created_at: number;
}

/** `GET /saved`: newest saved first. */
export interface SavedMessage {
  message: Message;
  saved_at: number;
}

/** `GET /messages/{id}/edits`: an earlier text and when it was replaced (oldest first). */
export interface EarlierVersion {
  body: string;
  replaced_at: number;
}

export const messagesApi = {
  /** One message (members of its conversation only; 404 otherwise). */
  get: (messageId: number) => request<Message>('GET', `/messages/${id(messageId)}`),
  /** Forwards a message to a conversation; the comment, if any, is posted just before the copy. */
  forward: (messageId: number, body: { channel_id: number; comment?: string }) =>
    request<Message>('POST', `/messages/${id(messageId)}/forward`, body),
  save: (messageId: number) => request<void>('PUT', `/messages/${id(messageId)}/saved`),
  unsave: (messageId: number) => request<void>('DELETE', `/messages/${id(messageId)}/saved`),
  saved: () => request<SavedMessage[]>('GET', '/saved'),
  edits: (messageId: number) => request<EarlierVersion[]>('GET', `/messages/${id(messageId)}/edits`),
};

// ---- Files ---------------------------------------------------------------

/**
 * Sends one chunk of an upload (`PATCH /uploads/{id}` with `Upload-Offset`).
 * XMLHttpRequest rather than fetch, for upload progress: `onProgress` gets the
 * bytes of this chunk sent so far. Rejects like `request()` (ApiError /
 * NetworkError), or with a DOMException named "AbortError" when `signal` aborts.
 */
export function sendChunk(
  uploadId: string,
  offset: number,
  chunk: Blob,
  onProgress: (sent: number) => void,
  signal?: AbortSignal,
): Promise<UploadView> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    xhr.open('PATCH', `${API_BASE}/uploads/${seg(uploadId)}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/offset+octet-stream');
    xhr.setRequestHeader('Upload-Offset', String(offset));
    xhr.upload.onprogress = (e: ProgressEvent) => onProgress(e.loaded);
    const done = () => signal?.removeEventListener('abort', onAbort);
    xhr.onload = () => {
      done();
      const text = typeof xhr.responseText === 'string' ? xhr.responseText : '';
      if (xhr.status < 200 || xhr.status >= 300) {
        // Status 0: the answer never arrived.
        if (xhr.status === 0) reject(new NetworkError());
        else reject(parseApiError(xhr.status, text, xhr.getResponseHeader('Retry-After')));
        return;
      }
      try {
        resolve(JSON.parse(text) as UploadView);
      } catch {
        reject(new ApiError(xhr.status, 'invalid-response', 'The server sent an invalid response.'));
      }
    };
    xhr.onerror = () => {
      done();
      reject(new NetworkError());
    };
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => {
      done();
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort);
    xhr.send(chunk);
  });
}

function abortError(): Error {
  return typeof DOMException !== 'undefined'
    ? new DOMException('the upload was cancelled', 'AbortError')
    : Object.assign(new Error('the upload was cancelled'), { name: 'AbortError' });
}

export const filesApi = {
  /** Reserves room for a file; size and quota are checked here, before any byte is sent. */
  createUpload: (body: NewUpload) => request<UploadView>('POST', '/uploads', body),
  /** Where an upload stands (to resume after a dropped connection). */
  uploadStatus: (uploadId: string) => request<UploadView>('GET', `/uploads/${seg(uploadId)}`),
  cancelUpload: (uploadId: string) => request<void>('DELETE', `/uploads/${seg(uploadId)}`),
  /** A video's poster frame (a JPEG the browser captured). */
  setPoster: (fileId: string, image: Blob) => request<FileView>('PUT', `/files/${seg(fileId)}/poster`, image),
};

// ---- Calls --------------------------------------------------------------

/** One connection in a call (a person may be in it from two devices). */
export interface CallParticipant {
  user_id: number;
  /** The connection's id in the media server. */
  peer?: number;
  muted: boolean;
  speaking: boolean;
  camera: boolean;
  screen: boolean;
}

/** An ongoing call in a conversation. */
export interface Call {
  id: number;
  channel_id: number;
  started_by: number;
  /** Milliseconds since the Unix epoch. */
  started_at: number;
  participants: CallParticipant[];
  /** Members being rung who have not answered or declined. */
  ringing: number[];
}

export const callsApi = {
  /** Ongoing calls in my conversations. */
  list: () => request<Call[]>('GET', '/calls'),
};

// ---- Administration without a terminal (admin., setup., reset.) -----------

/** `POST /users/{id}/password-reset`: a one-time link, valid for 24 hours. */
export interface ResetLink {
  /** `/reset/TOKEN` on this server. */
  path: string;
  token: string;
  /** RFC 3339. */
  expires_at: string;
}

/** `GET /password-resets/{token}`: whom a reset link is for. */
export interface ResetStatus {
  username: string;
  display_name: string;
}

/** `GET /admin/channels`: every public and private channel, archived ones too. */
export interface AdminChannel extends ChannelInfo {
  kind: 'public' | 'private';
  /** How many members. */
  members: number;
  owner_ids: number[];
  /** When the last message was sent (ms); null if never. */
  last_activity: number | null;
  /** The channel's own retention in days (0: forever); null follows the site's. */
  retention_days: number | null;
}

export const adminApi = {
  createResetLink: (userId: number) => request<ResetLink>('POST', `/users/${id(userId)}/password-reset`),
  endSessions: (userId: number) => request<void>('DELETE', `/users/${id(userId)}/sessions`),
  setAdmin: (userId: number, isAdmin: boolean) =>
    request<User>('PUT', `/users/${id(userId)}/admin`, { is_admin: isAdmin }),
  channels: () => request<AdminChannel[]>('GET', '/admin/channels'),
  removeMember: (channelId: number, userId: number) =>
    request<void>('DELETE', `/channels/${id(channelId)}/members/${id(userId)}`),
  setRole: (channelId: number, userId: number, role: 'owner' | 'member') =>
    request<ChannelInfo>('PUT', `/channels/${id(channelId)}/members/${id(userId)}/role`, { role }),
  /** Days to keep messages in the channel; null follows the site's setting. */
  setRetention: (channelId: number, days: number | null) =>
    request<void>('PUT', `/admin/channels/${id(channelId)}/retention`, { days }),
  /** Whether a setup link still works (404 `invalid-token` once used or expired). */
  setupStatus: (token: string) => request<{ valid: boolean }>('GET', `/auth/setup/${seg(token)}`),
  resetStatus: (token: string) => request<ResetStatus>('GET', `/password-resets/${seg(token)}`),
  useReset: (token: string, password: string) =>
    request<void>('POST', `/password-resets/${seg(token)}`, { password }),
};

/** The address of a QR code image of `text`, drawn by the server (signed-in users; for `<img src>`). */
export function qrSrc(text: string): string {
  return `${API_BASE}/qr?text=${encodeURIComponent(text)}`;
}

// ---- Linked sites ------------------------------------------------------------

/** A link's state: a live connection, none (down), or paused by an administrator. */
export type LinkState = 'connected' | 'disconnected' | 'paused';

/** `GET /admin/links`: another Outpost site this one is paired with (administrators). */
export interface LinkView {
  id: number;
  site_id: string;
  /** The other site's name. */
  name: string;
  /** SHA-256 of the other site's CA, colon-separated hex. */
  fingerprint: string;
  addresses: string[];
  /** `LinkState`; a string from a newer server may be another. */
  state: LinkState | string;
  /** The last time the sites heard from each other (ms); null: never. */
  last_contact_at: number | null;
  /** Events of this site the other has not acknowledged yet. */
  backlog_out: number;
  /** Events of the other site not applied here yet (as of the last contact). */
  backlog_in: number;
  last_error: string | null;
  created_at: number;
}

/** `POST /admin/links/invites`: a one-time invitation for another site's administrator. */
export interface LinkInvite {
  /** `outpost-link:…`: what the other administrator pastes (it works once). */
  code: string;
  site_name: string;
  /** This site's CA fingerprint, to read out to the other administrator. */
  fingerprint: string;
  addresses: string[];
  /** The code as a QR code: an SVG document drawn by the server. */
  qr_svg: string;
}

/** A linked site that carries a channel (`PUT`/`DELETE /channels/{id}/links/{link_id}` answer these). */
export interface ChannelShare {
  link_id: number;
  site_name: string;
  /** That site is the channel's home (this site takes part in its channel). */
  home: boolean;
}

/** `GET /channels/{id}/links` (members): a share, with whether its link is up and how far behind. */
export interface ChannelLink extends ChannelShare {
  state: LinkState | string;
  last_contact_at: number | null;
  backlog_in: number;
  backlog_out: number;
}

export const linksApi = {
  /** Every link (administrators). */
  list: () => request<LinkView[]>('GET', '/admin/links'),
  /** A one-time invitation, valid for `hours` (1 to 720; 24 when left out). */
  invite: (body: { hours?: number } = {}) => request<LinkInvite>('POST', '/admin/links/invites', body),
  /** Accepts another site's invitation; `fingerprint` is what its administrator read out. */
  accept: (body: { code: string; fingerprint?: string }) => request<LinkView>('POST', '/admin/links', body),
  pause: (linkId: number) => request<LinkView>('POST', `/admin/links/${id(linkId)}/pause`),
  resume: (linkId: number) => request<LinkView>('POST', `/admin/links/${id(linkId)}/resume`),
  /** Removes a link: the other site is refused at once. */
  remove: (linkId: number) => request<void>('DELETE', `/admin/links/${id(linkId)}`),
  /** The linked sites that carry a channel (its members; 404 for others). */
  channel: (channelId: number) => request<ChannelLink[]>('GET', `/channels/${id(channelId)}/links`),
  /** Shares a channel of this site with a linked site (its owners or administrators). */
  share: (channelId: number, linkId: number) =>
    request<ChannelShare[]>('PUT', `/channels/${id(channelId)}/links/${id(linkId)}`),
  unshare: (channelId: number, linkId: number) =>
    request<ChannelShare[]>('DELETE', `/channels/${id(channelId)}/links/${id(linkId)}`),
};
