import { describe, expect, it } from 'vitest';
import { describeUserAgent, formatBytes, formatDuration, formatFileSize, initials } from './format';

describe('initials', () => {
  it('takes the first letters of the first and last words', () => {
    expect(initials('Alice Liddell')).toBe('AL');
    expect(initials('  bob  ')).toBe('B');
    expect(initials('Анна Мария Петрова')).toBe('АП');
    expect(initials('')).toBe('?');
  });
});

describe('describeUserAgent', () => {
  it('names common browsers and systems', () => {
    expect(
      describeUserAgent('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'),
    ).toBe('Firefox · Linux');
    expect(
      describeUserAgent(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
      ),
    ).toBe('Edge · Windows');
    expect(
      describeUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      ),
    ).toBe('Safari · iOS');
    expect(
      describeUserAgent(
        'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36',
      ),
    ).toBe('Chrome · Android');
  });

  it('returns null for unknown or empty agents', () => {
    expect(describeUserAgent('')).toBeNull();
    expect(describeUserAgent('curl/8.5.0')).toBeNull();
  });
});


describe('formatBytes / formatDuration', () => {
  it('picks a readable unit', () => {
    expect(formatBytes(512, 'en')).toBe('0.5 kB');
    expect(formatBytes(3.5 * 1024 * 1024, 'en')).toBe('3.5 MB');
    expect(formatBytes(0, 'en')).toBe('0 kB');
  });
  it('gives small files in bytes', () => {
    expect(formatFileSize(30, 'en')).toBe('30 bytes');
    expect(formatFileSize(1, 'ru')).toBe('1 байт');
    expect(formatFileSize(2048, 'en')).toBe('2 kB');
  });
  it('shows the two largest units of a duration', () => {
    expect(formatDuration(3 * 86400 + 4 * 3600 + 5, 'en')).toBe('3 days, 4 hr');
    expect(formatDuration(300, 'en')).toBe('5 min');
    expect(formatDuration(0, 'en')).toBe('0 sec');
  });
});
