import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  LOGOUT_PENDING_KEY,
  NetworkError,
  api,
  chatApi,
  endPendingLogout,
  endServerSession,
  logoutPending,
  inviteLink,
  onEnrolmentRequired,
  parseApiError,
  parseRetryAfter,
  request,
  setFetch,
} from './api';

const NOW = Date.parse('2025-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('30', NOW)).toBe(30);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
  });

  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:30 GMT', NOW)).toBe(90);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', NOW)).toBe(0);
  });

  it('rejects missing and malformed values', () => {
    expect(parseRetryAfter(null, NOW)).toBeNull();
    expect(parseRetryAfter('', NOW)).toBeNull();
    expect(parseRetryAfter('-5', NOW)).toBeNull();
    expect(parseRetryAfter('1.5', NOW)).toBeNull();
    expect(parseRetryAfter('soon', NOW)).toBeNull();
  });
});

describe('parseApiError', () => {
  it('reads the standard error body', () => {
    const err = parseApiError(
      401,
      '{"error":{"code":"invalid-credentials","message":"Wrong user name or password"}}',
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
    expect(err.code).toBe('invalid-credentials');
    expect(err.message).toBe('Wrong user name or password');
    expect(err.retryAfter).toBeNull();
  });

  it('attaches Retry-After', () => {
    const err = parseApiError(429, '{"error":{"code":"rate-limited","message":"Slow down"}}', '17');
    expect(err.retryAfter).toBe(17);
  });

  it('tolerates empty, non-JSON and differently shaped bodies', () => {
    for (const body of ['', '<html>Bad Gateway</html>', '{"detail":"x"}', 'null', '[]', '{"error":"str"}']) {
      const err = parseApiError(502, body);
      expect(err.code, body).toBe('http-502');
      expect(err.message, body).toBe('');
    }
  });

  it('ignores fields of the wrong type', () => {
    const err = parseApiError(400, '{"error":{"code":7,"message":["a"]}}');
    expect(err.code).toBe('http-400');
    expect(err.message).toBe('');
    expect(err.field).toBeNull();
    expect(err.params).toEqual({});
  });

  it('reads the field at fault and the params of the sentence', () => {
    const err = parseApiError(
      400,
      '{"error":{"code":"too-long","message":"a topic is at most 250 characters","field":"topic","params":{"max":250}}}',
    );
    expect(err).toMatchObject({ code: 'too-long', field: 'topic', params: { max: 250 } });
    const mixed = parseApiError(
      400,
      '{"error":{"code":"mixed-script","message":"x","field":"name","params":{"first":"Latin","second":"Cyrillic"}}}',
    );
    expect(mixed.params).toEqual({ first: 'Latin', second: 'Cyrillic' });
  });

  it('keeps only string and number params, and a non-empty string field', () => {
    const err = parseApiError(
      400,
      '{"error":{"code":"x","message":"","field":"","params":{"a":1,"b":"s","c":null,"d":[1],"e":{"f":1},"g":true}}}',
    );
    expect(err.field).toBeNull();
    expect(err.params).toEqual({ a: 1, b: 's' });
    expect(parseApiError(400, '{"error":{"code":"x","field":3,"params":[1,2]}}')).toMatchObject({ field: null, params: {} });
  });

  it('keeps the old four-argument constructor', () => {
    const err = new ApiError(409, 'archived', 'the channel is archived', 3);
    expect(err).toMatchObject({ status: 409, code: 'archived', retryAfter: 3, field: null, params: {} });
  });
});

describe('request', () => {
  afterEach(() => setFetch((input, init) => globalThis.fetch(input, init)));

  function respond(status: number, body: string, headers: Record<string, string> = {}) {
    const fetch = vi.fn(async (_input: string, _init: RequestInit) => new Response(status === 204 ? null : body, { status, headers }));
    setFetch(fetch);
    return fetch;
  }

  it('sends JSON with same-origin credentials to /api/v1', async () => {
    const fetch = respond(200, '{"token":"t","user":{"id":1}}', { 'Content-Type': 'application/json' });
    const result = await api.login({ username: 'alice', password: 'pw' });
    expect(result.token).toBe('t');
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/api/v1/auth/login');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect(init.headers).toMatchObject({ 'Content-Type': 'application/json', Accept: 'application/json' });
    expect(JSON.parse(init.body as string)).toEqual({ username: 'alice', password: 'pw' });
  });

  it('sends no body or Content-Type for GET', async () => {
    const fetch = respond(200, '[]');
    await api.sessions();
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/api/v1/sessions');
    expect(init.method).toBe('GET');
    expect(init.body).toBeUndefined();
    expect(init.headers).not.toHaveProperty('Content-Type');
  });

  it('escapes path segments', async () => {
    const fetch = respond(204, '');
    await api.revokeSession('a/b?c');
    expect(fetch.mock.calls[0]![0]).toBe('/api/v1/sessions/a%2Fb%3Fc');
    const fetch2 = respond(200, '{"valid":true,"expires_at":"2025-01-01T00:00:00Z"}');
    await api.getInvite('x y');
    expect(fetch2.mock.calls[0]![0]).toBe('/api/v1/invites/x%20y');
  });

  it('resolves 204 to undefined', async () => {
    respond(204, '');
    await expect(api.logout()).resolves.toBeUndefined();
  });

  it('throws ApiError with status, code, message and Retry-After', async () => {
    respond(429, '{"error":{"code":"too-many-attempts","message":"Too many"}}', { 'Retry-After': '42' });
    const err = await request('POST', '/auth/login', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 429, code: 'too-many-attempts', message: 'Too many', retryAfter: 42 });
  });

  it('throws NetworkError when fetch rejects', async () => {
    setFetch(async () => {
      throw new TypeError('Failed to fetch');
    });
    const err = await api.me().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err).not.toBeInstanceOf(ApiError);
  });

  it('sends a JSON body with DELETE (turning two-step sign-in off)', async () => {
    const fetch = respond(204, '');
    await api.disableTwoFactor({ password: 'pw' });
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/api/v1/me/two-factor');
    expect(init.method).toBe('DELETE');
    expect(JSON.parse(init.body as string)).toEqual({ password: 'pw' });
  });

  it('tells the listeners when two-step sign-in must be set up first', async () => {
    const listener = vi.fn();
    const off = onEnrolmentRequired(listener);
    respond(403, '{"error":{"code":"forbidden","message":"no"}}');
    await api.users().catch(() => {});
    expect(listener).not.toHaveBeenCalled();
    respond(403, '{"error":{"code":"two-factor-enrolment-required","message":"set it up first"}}');
    await expect(api.users()).rejects.toMatchObject({ status: 403, code: 'two-factor-enrolment-required' });
    expect(listener).toHaveBeenCalledTimes(1);
    off();
    await api.users().catch(() => {});
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('calls the webhook and bot endpoints', async () => {
    const fetch = respond(204, '');
    await chatApi.webhooks(4);
    await chatApi.createWebhook(4, { name: 'Zabbix' });
    await chatApi.deleteWebhook(9);
    await api.bots();
    await api.createBot({ username: 'backup-bot' });
    await api.createToken(12, { name: 'nas1', scopes: ['read', 'write'] });
    await api.revokeToken(30);
    expect(fetch.mock.calls.map(([url, init]) => [init.method, url, init.body ? JSON.parse(init.body as string) : null])).toEqual([
      ['GET', '/api/v1/channels/4/webhooks', null],
      ['POST', '/api/v1/channels/4/webhooks', { name: 'Zabbix' }],
      ['DELETE', '/api/v1/webhooks/9', null],
      ['GET', '/api/v1/bots', null],
      ['POST', '/api/v1/bots', { username: 'backup-bot' }],
      ['POST', '/api/v1/bots/12/tokens', { name: 'nas1', scopes: ['read', 'write'] }],
      ['DELETE', '/api/v1/tokens/30', null],
    ]);
  });

  it('reports a non-JSON success body as an invalid response', async () => {
    respond(200, '<html>captive portal</html>');
    await expect(api.me()).rejects.toMatchObject({ code: 'invalid-response' });
  });
});

describe('inviteLink', () => {
  const base = { token: 'T0K', expires_at: '2025-01-01T00:00:00Z' };

  it("uses the server's full URL when given", () => {
    expect(inviteLink({ ...base, url: 'https://outpost.lan/invite/T0K' }, 'https://x')).toBe(
      'https://outpost.lan/invite/T0K',
    );
  });

  it('puts a path on this origin', () => {
    expect(inviteLink({ ...base, path: '/invite/T0K' }, 'https://outpost.lan:8443')).toBe(
      'https://outpost.lan:8443/invite/T0K',
    );
    expect(inviteLink(base, 'https://outpost.lan/')).toBe('https://outpost.lan/invite/T0K');
  });
});

describe('a logout the server has not heard of', () => {
  const store = new Map<string, string>();
  const asked: string[] = [];
  let logout: () => Promise<Response>;

  beforeEach(() => {
    store.clear();
    asked.length = 0;
    vi.stubGlobal('localStorage', {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    });
    setFetch(async (url, init) => {
      asked.push(`${init.method} ${url}`);
      if (url.endsWith('/auth/logout')) return logout();
      return new Response('{"user":{"id":1}}', { status: 200 });
    });
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    setFetch((input, init) => globalThis.fetch(input, init));
  });

  const unreachable = () => Promise.reject(new TypeError('Failed to fetch'));

  it('is owed while the server cannot be reached (or fails), and settled by any answer of its', async () => {
    logout = unreachable;
    expect(await endServerSession()).toBe(false);
    expect(store.get(LOGOUT_PENDING_KEY)).toBe('1');
    expect(logoutPending()).toBe(true);
    logout = async () => new Response('', { status: 502 });
    expect(await endPendingLogout()).toBe(false);
    expect(logoutPending()).toBe(true);
    // 401: the session is already gone there.
    logout = async () => new Response('{"error":{"code":"unauthorized","message":""}}', { status: 401 });
    expect(await endPendingLogout()).toBe(true);
    expect(logoutPending()).toBe(false);
    asked.length = 0;
    expect(await endPendingLogout()).toBe(true);
    expect(asked).toEqual([]);
  });

  it('goes once however many ask at the same time', async () => {
    logout = async () => new Response(null, { status: 204 });
    store.set(LOGOUT_PENDING_KEY, '1');
    expect(await Promise.all([endPendingLogout(), endPendingLogout(), endServerSession()])).toEqual([true, true, true]);
    expect(asked).toEqual(['POST /api/v1/auth/logout']);
  });

  it('goes before signing in, while the old session’s cookie is the one sent; a new session clears it', async () => {
    store.set(LOGOUT_PENDING_KEY, '1');
    logout = async () => new Response(null, { status: 204 });
    await api.login({ username: 'alice', password: 'pw' });
    expect(asked).toEqual(['POST /api/v1/auth/logout', 'POST /api/v1/auth/login']);
    expect(logoutPending()).toBe(false);

    // Still unreachable for the logout, but the sign-in got through: the cookie is the new
    // session's now, and a logout sent later would end that one.
    store.set(LOGOUT_PENDING_KEY, '1');
    logout = unreachable;
    asked.length = 0;
    await api.acceptInvite({ token: 't', username: 'alice', display_name: 'Alice', password: 'pw' });
    expect(asked).toEqual(['POST /api/v1/auth/logout', 'POST /api/v1/auth/invite']);
    expect(logoutPending()).toBe(false);
  });
});
