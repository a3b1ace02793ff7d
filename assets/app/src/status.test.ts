import { afterEach, describe, expect, it } from 'vitest';
import { setLocale, t } from './i18n';
import {
  activeStatus,
  CLEAR_AFTER,
  CLEAR_AFTER_LABELS,
  DEFAULT_CLEAR_AFTER,
  formatUntil,
  STATUS_PRESETS,
  statusBody,
  statusEmoji,
  statusProblem,
} from './status';

afterEach(() => setLocale('en'));

describe('status', () => {
  it('offers exactly the server’s "clear after" values, in order, each with a label in both languages', () => {
    expect(CLEAR_AFTER).toEqual(['30m', '1h', '4h', 'today', 'week', 'never']);
    expect(CLEAR_AFTER.map((c) => t(CLEAR_AFTER_LABELS[c]))).toEqual([
      '30 minutes',
      '1 hour',
      '4 hours',
      'Today',
      'This week',
      'Don’t clear',
    ]);
    setLocale('ru');
    expect(CLEAR_AFTER.map((c) => t(CLEAR_AFTER_LABELS[c]))).toEqual([
      'Через 30 минут',
      'Через час',
      'Через 4 часа',
      'В конце дня',
      'В конце недели',
      'Не убирать',
    ]);
    expect(CLEAR_AFTER).toContain(DEFAULT_CLEAR_AFTER);
  });

  it('has presets with one emoji and a valid "clear after" each', () => {
    expect(STATUS_PRESETS.map((p) => p.emoji)).toEqual(['📅', '🚗', '🤒', '🌴']);
    expect(STATUS_PRESETS.map((p) => t(p.text))).toEqual(['In a meeting', 'On the way', 'Out sick', 'On leave']);
    for (const p of STATUS_PRESETS) expect(CLEAR_AFTER).toContain(p.clearAfter);
  });

  it('builds the body, trimmed, and never with an unknown "clear after"', () => {
    expect(statusBody(' 🤒 ', ' Out sick ', 'today')).toEqual({ emoji: '🤒', text: 'Out sick', clear_after: 'today' });
    expect(statusBody('', 'x', 'week')).toEqual({ emoji: '', text: 'x', clear_after: 'week' });
    expect(statusBody('', 'x', 'soon' as never).clear_after).toBe(DEFAULT_CLEAR_AFTER);
  });

  it('checks the length in characters, as the server counts', () => {
    expect(statusProblem('a'.repeat(100))).toBeNull();
    expect(statusProblem(`  ${'a'.repeat(100)}  `)).toBeNull();
    expect(statusProblem('🚗'.repeat(100))).toBeNull();
    expect(statusProblem('a'.repeat(101))).toBe('status.tooLong');
    expect(statusProblem('two\nlines')).toBe('status.badText');
  });

  it('shows a status until it expires', () => {
    const s = { emoji: '📅', text: 'In a meeting', expires_at: 2000 };
    expect(activeStatus(s, 1999)).toBe(s);
    expect(activeStatus(s, 2000)).toBeNull();
    expect(activeStatus({ ...s, expires_at: null }, 10 ** 15)).not.toBeNull();
    expect(activeStatus({ emoji: '', text: '', expires_at: null }, 0)).toBeNull();
    expect(activeStatus(null)).toBeNull();
    expect(statusEmoji({ emoji: '' })).toBe('💬');
    expect(statusEmoji({ emoji: '🌴' })).toBe('🌴');
  });

  it('says until when: a time today, a date later', () => {
    const now = new Date(2026, 0, 10, 9, 0).getTime();
    expect(formatUntil(new Date(2026, 0, 10, 14, 30).getTime(), now, 'en')).toMatch(/^until 0?2:30\sPM$|^until 14:30$/);
    const later = formatUntil(new Date(2026, 0, 12, 8, 0).getTime(), now, 'en');
    expect(later).toMatch(/^until /);
    expect(later).toMatch(/12/);
    setLocale('ru');
    expect(formatUntil(new Date(2026, 0, 10, 14, 30).getTime(), now, 'ru')).toBe('до 14:30');
  });
});
