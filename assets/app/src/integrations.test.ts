import { describe, expect, it } from 'vitest';
import {
  botCurl,
  checkName,
  checkReceiverUrl,
  checkTriggerWords,
  checkUsername,
  newTokenProblem,
  shellQuote,
  toggleScope,
  webhookCurl,
  webhookUrl,
} from './integrations';

describe('shellQuote', () => {
  it('leaves safe words bare and single-quotes the rest', () => {
    expect(shellQuote('https://chat.lan:8443/api/v1/hooks/abc-DEF_123')).toBe('https://chat.lan:8443/api/v1/hooks/abc-DEF_123');
    expect(shellQuote('Content-Type: application/json')).toBe("'Content-Type: application/json'");
    expect(shellQuote('{"text":"x"}')).toBe(`'{"text":"x"}'`);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('$(reboot)')).toBe("'$(reboot)'");
  });
});

describe('webhook URL and example', () => {
  it('puts the path on this origin', () => {
    expect(webhookUrl({ path: '/api/v1/hooks/T0K', token: 'T0K' }, 'https://chat.lan:8443')).toBe(
      'https://chat.lan:8443/api/v1/hooks/T0K',
    );
    expect(webhookUrl({ path: '/api/v1/hooks/T0K', token: 'T0K' }, 'https://chat.lan/')).toBe('https://chat.lan/api/v1/hooks/T0K');
    // Without a usable path: the documented one, from the token.
    expect(webhookUrl({ path: '', token: 'a b' }, 'https://h')).toBe('https://h/api/v1/hooks/a%20b');
  });

  it('gives a ready-to-copy curl command that checks the server with its CA', () => {
    expect(webhookCurl('https://192.168.1.5:8443/api/v1/hooks/abcDEF-_1')).toBe(
      `curl --cacert outpost-ca.pem -H 'Content-Type: application/json' -d '{"text":"Disk full on db1","display_name":"Zabbix"}' https://192.168.1.5:8443/api/v1/hooks/abcDEF-_1`,
    );
  });
});

describe('bot token example', () => {
  it('lists the channels with the token as a bearer', () => {
    expect(botCurl('https://chat.lan:8443', 'otb_abc-DEF_1')).toBe(
      "curl --cacert outpost-ca.pem -H 'Authorization: Bearer otb_abc-DEF_1' https://chat.lan:8443/api/v1/channels",
    );
    expect(botCurl('https://chat.lan/', "x'y")).toBe(
      `curl --cacert outpost-ca.pem -H 'Authorization: Bearer x'\\''y' https://chat.lan/api/v1/channels`,
    );
  });
});

describe('names', () => {
  it('takes 1 to 64 characters without control characters, trimmed', () => {
    expect(checkName('  Zabbix  ')).toBe('Zabbix');
    expect(checkName('Мониторинг 🚨')).toBe('Мониторинг 🚨');
    expect(checkName('   ')).toBeNull();
    expect(checkName('a'.repeat(64))).toBe('a'.repeat(64));
    expect(checkName('a'.repeat(65))).toBeNull();
    // Characters, not UTF-16 units: 64 emoji are fine.
    expect(checkName('🚨'.repeat(64))).toBe('🚨'.repeat(64));
    expect(checkName('line\nbreak')).toBeNull();
    expect(checkName('bell\u0007')).toBeNull();
  });

  it('checks a user name like the server and lower-cases it', () => {
    expect(checkUsername(' Backup-Bot ')).toBe('backup-bot');
    expect(checkUsername('ci.runner_2')).toBe('ci.runner_2');
    expect(checkUsername('x')).toBe('x');
    expect(checkUsername('a'.repeat(32))).toBe('a'.repeat(32));
    expect(checkUsername('a'.repeat(33))).toBeNull();
    expect(checkUsername('-bot')).toBeNull();
    expect(checkUsername('my bot')).toBeNull();
    expect(checkUsername('бот')).toBeNull();
    expect(checkUsername('')).toBeNull();
  });
});

describe('token scopes', () => {
  it('ticks read with write or admin, and unticks them with read', () => {
    expect(toggleScope(['read'], 'write', true)).toEqual(['read', 'write']);
    expect(toggleScope([], 'admin', true)).toEqual(['read', 'admin']);
    expect(toggleScope(['read', 'write', 'admin'], 'read', false)).toEqual([]);
    expect(toggleScope(['read', 'write', 'admin'], 'write', false)).toEqual(['read', 'admin']);
    expect(toggleScope(['admin', 'read'], 'write', true)).toEqual(['read', 'write', 'admin']);
    expect(toggleScope([], 'read', true)).toEqual(['read']);
  });

  it('needs a name and at least one scope', () => {
    expect(newTokenProblem('backup on nas1', ['read'])).toBeNull();
    expect(newTokenProblem('  ', ['read'])).toBe('name');
    expect(newTokenProblem('backup', [])).toBe('scopes');
    expect(newTokenProblem('', [])).toBe('name');
  });
});

describe('outgoing webhooks', () => {
  it('takes 1 to 10 space-separated trigger words of at most 32 characters', () => {
    expect(checkTriggerWords('  !status   !uptime ')).toEqual(['!status', '!uptime']);
    expect(checkTriggerWords('статус')).toEqual(['статус']);
    expect(checkTriggerWords('   ')).toBeNull();
    expect(checkTriggerWords('a b c d e f g h i j')).toHaveLength(10);
    expect(checkTriggerWords('a b c d e f g h i j k')).toBeNull();
    expect(checkTriggerWords('x'.repeat(32))).toEqual(['x'.repeat(32)]);
    expect(checkTriggerWords('x'.repeat(33))).toBeNull();
    expect(checkTriggerWords('🚨'.repeat(32))).toEqual(['🚨'.repeat(32)]);
  });

  it('takes only plain http to an IP address, as the server does', () => {
    expect(checkReceiverUrl(' http://10.0.0.5:8080/outpost ')).toBe('http://10.0.0.5:8080/outpost');
    expect(checkReceiverUrl('http://10.0.0.5:8080/hooks/a?b=1')).toBe('http://10.0.0.5:8080/hooks/a?b=1');
    expect(checkReceiverUrl('http://192.168.1.20')).toBe('http://192.168.1.20');
    expect(checkReceiverUrl('http://[fd00::1]/x')).toBe('http://[fd00::1]/x');
    expect(checkReceiverUrl('http://[fd00::1]:9000/x')).toBe('http://[fd00::1]:9000/x');
    for (const bad of [
      'https://10.0.0.5/',
      'http://monitor.local/',
      'ftp://1.2.3.4/',
      '10.0.0.5',
      '',
      'http://10.0.0.256/',
      'http://10.0.0/',
      'http://010.0.0.5/',
      'http://10.0.0.5:99999/',
      'http://10.0.0.5:/x',
      'http://user@10.0.0.5/',
      'http://10.0.0.5/a b',
      'http://fd00::1/x',
      'http://[nope]/x',
      'http:///x',
    ]) {
      expect(checkReceiverUrl(bad), bad).toBeNull();
    }
  });
});
