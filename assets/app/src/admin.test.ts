import { afterEach, describe, expect, it } from 'vitest';
import { auditDetails, auditSentence, daysLabel, linkSiteName, onboardingAddress, parseDays, relativeTime, searchUsers, userMatches, type AuditNames } from './admin';
import type { AuditEntry } from './api';
import { catalogs, setLocale } from './i18n';

afterEach(() => setLocale('en'));

const u = (id: number, username: string, display_name: string, extra: Record<string, unknown> = {}) => ({
  id,
  username,
  display_name,
  disabled: false,
  title: '',
  department: '',
  ...extra,
});

describe('searching users', () => {
  const users = [
    u(1, 'anna', 'Анна Петрова', { title: 'Инженер', department: 'Связь' }),
    u(2, 'boris', 'Boris Stone', { title: 'Radio operator', department: 'Ops' }),
    u(3, 'fyodor', 'Фёдор', { disabled: true }),
    u(4, 'alex', 'Alex Adams'),
  ];

  it('matches names, user names, titles and departments in any case, Latin and Cyrillic', () => {
    expect(userMatches(users[0]!, 'ПЕТРОВА')).toBe(true);
    expect(userMatches(users[0]!, 'связь инж')).toBe(true);
    expect(userMatches(users[0]!, 'anna')).toBe(true);
    expect(userMatches(users[1]!, 'RADIO ops')).toBe(true);
    expect(userMatches(users[1]!, 'radio anna')).toBe(false);
    expect(userMatches(users[2]!, 'федор')).toBe(true);
  });

  it('lists active accounts first, each by name', () => {
    expect(searchUsers(users, '', 'en').map((x) => x.id)).toEqual([4, 2, 1, 3]);
    expect(searchUsers(users, 'a', 'en').map((x) => x.id)).toEqual([4, 2, 1]);
    expect(searchUsers(users, 'ан', 'ru').map((x) => x.id)).toEqual([1]);
  });
});

describe('relative times', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');
  it('reads naturally in both languages', () => {
    expect(relativeTime(now - 10_000, now, 'en')).toBe('just now');
    expect(relativeTime(now - 5 * 60_000, now, 'en')).toBe('5 minutes ago');
    expect(relativeTime(now - 3 * 3600_000, now, 'en')).toBe('3 hours ago');
    expect(relativeTime(now - 86400_000, now, 'en')).toBe('yesterday');
    expect(relativeTime(now - 90 * 86400_000, now, 'en')).toBe('3 months ago');
    setLocale('ru');
    expect(relativeTime(now - 10_000, now, 'ru')).toBe('только что');
    expect(relativeTime(now - 5 * 60_000, now, 'ru')).toBe('5 минут назад');
    expect(relativeTime(now - 2 * 86400_000, now, 'ru')).toBe('позавчера');
  });
});

describe('retention values', () => {
  it('takes whole days from 0 to 36500', () => {
    expect(parseDays('30')).toBe(30);
    expect(parseDays(' 0 ')).toBe(0);
    expect(parseDays('36500')).toBe(36500);
    for (const bad of ['', '-1', '1.5', '36501', 'ten', '1e3']) expect(parseDays(bad), bad).toBeNull();
  });

  it('says forever for 0', () => {
    expect(daysLabel(0)).toBe('Forever');
    expect(daysLabel(1)).toBe('1 day');
    setLocale('ru');
    expect(daysLabel(5)).toBe('5 дней');
    expect(daysLabel(22)).toBe('22 дня');
  });
});

describe('the onboarding address', () => {
  it('is plain http on the same host, when the server has the port', () => {
    expect(onboardingAddress('outpost.lan', 8080)).toBe('http://outpost.lan:8080/');
    expect(onboardingAddress('10.0.0.5', 80)).toBe('http://10.0.0.5:80/');
    expect(onboardingAddress('fe80::1', 8080)).toBe('http://[fe80::1]:8080/');
    expect(onboardingAddress('[fe80::1]', 8080)).toBe('http://[fe80::1]:8080/');
    expect(onboardingAddress('outpost.lan', null)).toBeNull();
    expect(onboardingAddress('outpost.lan', undefined)).toBeNull();
  });
});

describe('audit sentences', () => {
  const names: AuditNames = {
    byUsername: new Map([
      ['anna', 'Анна'],
      ['boris', 'Boris'],
    ]),
    byId: new Map([
      [2, 'Boris'],
      [1, 'Анна'],
    ]),
    channels: new Map([[9, 'ops']]),
  };
  const entry = (action: string, fields: Partial<AuditEntry> = {}): AuditEntry => ({
    id: 1,
    at: '2026-03-10T12:00:00Z',
    actor_id: 1,
    actor: 'anna',
    action,
    target: 'boris',
    address: '10.0.0.2',
    details: '',
    ...fields,
  });

  it('name the people and channels involved, in English', () => {
    expect(auditSentence(entry('user-disabled'), names)).toBe('Анна disabled the account Boris');
    expect(auditSentence(entry('admin-granted'), names)).toBe('Анна made Boris an administrator');
    expect(auditSentence(entry('user-promoted', { actor: 'cli', actor_id: null }), names)).toBe('Server console made Boris an administrator');
    expect(auditSentence(entry('member-added', { target: '#ops (9)', details: 'user 2' }), names)).toBe('Анна added Boris to #ops');
    expect(auditSentence(entry('retention-set', { target: 'channel 9', details: '30 days' }), names)).toBe(
      'Анна set how long #ops keeps messages: 30 days',
    );
    expect(auditSentence(entry('site-retention-changed', { target: 'site', details: 'keep forever' }), names)).toBe(
      'Анна set how long messages are kept on the site: forever',
    );
    expect(auditSentence(entry('two-factor-policy-changed', { target: 'admins' }), names)).toBe(
      'Анна set the two-step sign-in requirement to “For administrators”',
    );
    expect(auditSentence(entry('user-created', { actor: 'boris' }), names)).toBe('The account Boris was created');
    expect(auditSentence(entry('sign-in-failed', { actor: 'nobody', target: 'nobody', actor_id: null }), names)).toBe(
      'Failed sign-in as nobody',
    );
    expect(auditSentence(entry('outgoing-webhook-called', { actor: 'webhook Zabbix', target: '#ops (9)' }), names)).toBe(
      'The outgoing webhook “Zabbix” was called from #ops',
    );
    expect(auditSentence(entry('retention-applied', { actor: 'retention', target: 'channel 9', details: '12 messages older than 30 days deleted' }), names)).toBe(
      'Old messages deleted in #ops: 12',
    );
  });

  it('read in Russian with neutral grammar', () => {
    setLocale('ru');
    expect(auditSentence(entry('user-disabled'), names)).toBe('Анна: учётная запись Boris отключена');
    expect(auditSentence(entry('sessions-ended'), names)).toBe('Анна: все сеансы пользователя Boris завершены');
    expect(auditSentence(entry('owner-added', { target: '#ops (9)', details: 'user 2' }), names)).toBe(
      'Анна: пользователь Boris назначен владельцем #ops',
    );
    expect(auditSentence(entry('password-reset-link-created'), names)).toBe(
      'Анна: создана ссылка для сброса пароля пользователя Boris',
    );
    expect(auditSentence(entry('retention-set', { target: 'channel 9', details: '5 days' }), names)).toBe(
      'Анна: срок хранения сообщений в #ops — 5 дней',
    );
  });

  it('name the linked sites of link events, in both languages', () => {
    const hq = { target: 'link 3 (HQ North)', details: 'site 5f2c, CA ab:cd' };
    expect(auditSentence(entry('link-accept', hq), names)).toBe('Анна linked this site with HQ North');
    expect(auditSentence(entry('link-accepted', { ...hq, actor: 'link', actor_id: null }), names)).toBe(
      'HQ North accepted an invitation and is now linked with this site',
    );
    expect(auditSentence(entry('link-remove', hq), names)).toBe('Анна removed the link with HQ North');
    // The server may name the actor of link events by id alone.
    expect(auditSentence(entry('link-resume', { ...hq, actor: '', actor_id: 2 }), names)).toBe('Boris resumed the link with HQ North');
    expect(auditSentence(entry('link-invite', { target: '', details: 'expires 1767225600000' }), names)).toBe(
      'Анна created an invitation for another site',
    );
    const shared = entry('channel-shared', { target: '#ops (9)', details: 'link 3 (HQ North)' });
    expect(auditSentence(shared, names)).toBe('Анна shared #ops with HQ North');
    expect(auditDetails(shared)).toBe('');
    expect(auditDetails(entry('link-remove', hq))).toBe('site 5f2c, CA ab:cd');
    setLocale('ru');
    expect(auditSentence(entry('link-pause', hq), names)).toBe('Анна: связь с сайтом HQ North приостановлена');
    expect(auditSentence(entry('channel-unshared', { target: '#ops (9)', details: 'link 3 (HQ North)' }), names)).toBe(
      'Анна: сайту HQ North закрыт доступ к каналу #ops',
    );
    expect(linkSiteName('something else')).toBe('something else');
  });

  it('fall back to the code for unknown events, and to ids for unknown names', () => {
    expect(auditSentence(entry('something-new'), names)).toBe('something-new');
    expect(auditSentence(entry('member-removed', { target: '#x (4)', details: 'user 77' }))).toBe('anna removed ID 77 from #x');
  });

  it('cover every event the server records', () => {
    // Grep of the server's audit entries (`action: "…"` and the if/else forms).
    const codes = [
      'sign-in', 'sign-in-failed', 'sign-in-refused', 'session-revoked', 'sessions-ended', 'user-created', 'invite-created',
      'invite-used', 'user-disabled', 'user-enabled', 'admin-granted', 'admin-revoked', 'user-promoted', 'user-demoted',
      'password-changed', 'password-reset', 'password-reset-link-created', 'password-reset-used', 'profile-changed',
      'profile-photo-changed', 'two-factor-enabled', 'two-factor-disabled', 'two-factor-reset', 'recovery-code-used',
      'recovery-codes-replaced', 'two-factor-policy-changed', 'channel-created', 'channel-archived', 'channel-unarchived',
      'member-added', 'member-removed', 'owner-added', 'owner-removed', 'directory-member-added', 'directory-member-removed',
      'retention-set', 'retention-applied', 'site-retention-changed', 'webhook-created', 'webhook-deleted',
      'outgoing-webhook-created', 'outgoing-webhook-deleted', 'outgoing-webhook-called', 'bot-created', 'api-token-created',
      'api-token-revoked', 'directory-account-created', 'directory-account-updated', 'directory-account-disabled',
      'backup-taken', 'config-changed', 'link-invite', 'link-accept', 'link-accepted', 'link-pause', 'link-resume',
      'link-remove', 'channel-shared', 'channel-unshared',
    ];
    for (const locale of ['en', 'ru'] as const) {
      setLocale(locale);
      for (const code of codes) {
        const text = auditSentence(entry(code, { target: code.includes('member') || code.includes('owner') ? '#ops (9)' : 'boris' }), names);
        expect(text, `${locale} ${code}`).not.toBe(code);
        expect(text, `${locale} ${code}`).not.toMatch(/\{\w+\}/);
      }
    }
    expect(Object.keys(catalogs.ru).filter((k) => k.startsWith('audit.')).length).toBeGreaterThan(50);
  });
});
