// Typed client for the Outpost HTTP API (`/api/v1`).
//
// Every call goes through `request()`: same-origin cookies, JSON in and out.
// A non-2xx answer becomes an `ApiError` carrying the HTTP status and the
// server's `{"error":{"code","message"}}` body; a request that never got an
// answer (server down, connection lost) becomes a `NetworkError`.

export const API_BASE = '/api/v1';

export interface User {
  id: number;
  username: string;
  display_name: string;
  is_admin: boolean;
  disabled: boolean;
  created_at: string;
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

/** The server answered with a non-success status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status code. */
    readonly status: number,
    /** Machine-readable kebab-case code from the error body (or `http-<status>`). */
    readonly code: string,
    /** Human sentence from the server (English); may be empty. */
    message: string,
    /** Seconds from the `Retry-After` header, when present and valid. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
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
  if (bodyText) {
    try {
      const body: unknown = JSON.parse(bodyText);
      const err = (body as { error?: unknown } | null)?.error;
      if (err && typeof err === 'object') {
        const c = (err as { code?: unknown }).code;
        const m = (err as { message?: unknown }).message;
        if (typeof c === 'string' && c !== '') code = c;
        if (typeof m === 'string') message = m;
      }
    } catch {
      // Not JSON: keep the generic code.
    }
  }
  return new ApiError(status, code, message, parseRetryAfter(retryAfterHeader, now));
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The fetch implementation; replaceable in tests. */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

let fetchImpl: Fetch = (input, init) => globalThis.fetch(input, init);

export function setFetch(impl: Fetch): void {
  fetchImpl = impl;
}

/**
 * Performs one API call. `path` is relative to `/api/v1` (e.g. `/me`).
 * Resolves with the parsed JSON body, or `undefined` for 204 / empty bodies.
 */
export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
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
    throw parseApiError(res.status, text, res.headers.get('Retry-After'));
  }
  if (res.status === 204 || text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'invalid-response', 'The server sent an invalid response.');
  }
}

const seg = encodeURIComponent;

/** The API endpoints used by the web app. */
export const api = {
  setup: (body: { token: string; username: string; display_name: string; password: string }) =>
    request<unknown>('POST', '/auth/setup', body),
  login: (body: { username: string; password: string }) =>
    request<LoginResponse>('POST', '/auth/login', body),
  logout: () => request<void>('POST', '/auth/logout'),
  acceptInvite: (body: { token: string; username: string; display_name: string; password: string }) =>
    request<LoginResponse>('POST', '/auth/invite', body),
  getInvite: (token: string) => request<InviteInfo>('GET', `/invites/${seg(token)}`),

  me: () => request<User>('GET', '/me'),
  updateMe: (body: { display_name: string }) => request<User>('PATCH', '/me', body),
  changePassword: (body: { current_password: string; new_password: string }) =>
    request<void>('PUT', '/me/password', body),

  sessions: () => request<Session[]>('GET', '/sessions'),
  revokeSession: (id: string) => request<void>('DELETE', `/sessions/${seg(id)}`),

  users: () => request<User[]>('GET', '/users'),
  disableUser: (id: number) => request<void>('POST', `/users/${seg(String(id))}/disable`),
  enableUser: (id: number) => request<void>('POST', `/users/${seg(String(id))}/enable`),
  createInvite: (body: { expires_in_hours: number }) =>
    request<CreatedInvite>('POST', '/invites', body),
};
