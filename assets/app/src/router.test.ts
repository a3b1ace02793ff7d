import { describe, expect, it } from 'vitest';
import { isPublicRoute, loginPath, parseRoute, safeNext } from './router';

describe('parseRoute', () => {
  it('parses the public pages', () => {
    expect(parseRoute('/login', '')).toEqual({ name: 'login', next: null });
    expect(parseRoute('/setup', '?token=XYZ')).toEqual({ name: 'setup', token: 'XYZ' });
    expect(parseRoute('/setup', 'token=a%2Bb')).toEqual({ name: 'setup', token: 'a+b' });
    expect(parseRoute('/setup', '')).toEqual({ name: 'setup', token: '' });
    expect(parseRoute('/invite/abc123', '')).toEqual({ name: 'invite', token: 'abc123' });
    expect(parseRoute('/invite/a%20b', '')).toEqual({ name: 'invite', token: 'a b' });
    expect(parseRoute('/reset/tok_en-1', '')).toEqual({ name: 'reset', token: 'tok_en-1' });
    expect(isPublicRoute(parseRoute('/reset/x', ''))).toBe(true);
  });

  it('parses the app pages', () => {
    expect(parseRoute('/', '')).toEqual({ name: 'home' });
    expect(parseRoute('', '')).toEqual({ name: 'home' });
    expect(parseRoute('/profile', '')).toEqual({ name: 'profile' });
    expect(parseRoute('/people', '')).toEqual({ name: 'people' });
    expect(parseRoute('/admin', '?tab=users')).toEqual({ name: 'admin', tab: 'users' });
    expect(parseRoute('/admin/channels', '')).toEqual({ name: 'admin', tab: 'channels' });
    expect(parseRoute('/admin/audit/', '')).toEqual({ name: 'admin', tab: 'audit' });
    expect(parseRoute('/admin/nope', '').name).toBe('notFound');
  });

  it('ignores one trailing slash', () => {
    expect(parseRoute('/login/', '')).toEqual({ name: 'login', next: null });
    expect(parseRoute('/invite/abc/', '')).toEqual({ name: 'invite', token: 'abc' });
  });

  it('treats everything else as not found (inside the app shell)', () => {
    for (const path of ['/nope', '/invite', '/invite/', '/invite/a/b', '/invite/%E0%A4%A', '/LOGIN', '//login']) {
      const route = parseRoute(path, '');
      expect(route.name, path).toBe('notFound');
      expect(isPublicRoute(route), path).toBe(false);
    }
  });

  it('keeps a safe ?next= on the login page', () => {
    expect(parseRoute('/login', '?next=%2Fprofile')).toEqual({ name: 'login', next: '/profile' });
    expect(parseRoute('/login', '?next=https://evil.example/')).toEqual({ name: 'login', next: null });
  });
});

describe('safeNext', () => {
  it('accepts same-origin app paths', () => {
    expect(safeNext('/')).toBe('/');
    expect(safeNext('/admin')).toBe('/admin');
    expect(safeNext('/profile?x=1#y')).toBe('/profile?x=1#y');
  });

  it('rejects other origins, schemes and odd input', () => {
    for (const value of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', 'profile', '', null, undefined, '/pro\nfile']) {
      expect(safeNext(value), String(value)).toBeNull();
    }
  });

  it('rejects public pages, which would loop', () => {
    expect(safeNext('/login')).toBeNull();
    expect(safeNext('/login?next=/login')).toBeNull();
    expect(safeNext('/invite/abc')).toBeNull();
    expect(safeNext('/setup?token=x')).toBeNull();
    expect(safeNext('/reset/abc')).toBeNull();
  });
});

describe('loginPath', () => {
  it('remembers where to come back to', () => {
    expect(loginPath('/profile')).toBe('/login?next=%2Fprofile');
    expect(loginPath('/')).toBe('/login');
    expect(loginPath()).toBe('/login');
    expect(loginPath('//evil')).toBe('/login');
  });
});
