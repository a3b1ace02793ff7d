import { describe, expect, it } from 'vitest';
import { effectiveZone, isTimeZone, minuteOfDay, parseClock, timeZoneList, tomorrowAt, wallClock, zonedTime } from './timezone';

describe('time zones', () => {
  it('reads a clock in a zone', () => {
    const at = Date.UTC(2026, 0, 10, 21, 30);
    expect(wallClock(at, 'Europe/Moscow')).toEqual({ year: 2026, month: 1, day: 11, hour: 0, minute: 30 });
    expect(wallClock(at, 'America/New_York')).toEqual({ year: 2026, month: 1, day: 10, hour: 16, minute: 30 });
    expect(minuteOfDay(at, 'UTC')).toBe(21 * 60 + 30);
  });

  it('finds the instant of a clock time, across clock changes', () => {
    expect(zonedTime(2026, 1, 11, 8, 0, 'Europe/Moscow')).toBe(Date.UTC(2026, 0, 11, 5, 0));
    // New York: winter UTC-5, summer UTC-4.
    expect(zonedTime(2026, 1, 11, 8, 0, 'America/New_York')).toBe(Date.UTC(2026, 0, 11, 13, 0));
    expect(zonedTime(2026, 7, 11, 8, 0, 'America/New_York')).toBe(Date.UTC(2026, 6, 11, 12, 0));
    // Day 32 of January is 1 February.
    expect(zonedTime(2026, 1, 32, 8, 0, 'UTC')).toBe(Date.UTC(2026, 1, 1, 8, 0));
  });

  it('"tomorrow 08:00" is the next day on the zone’s clock', () => {
    // 23:30 on 10 January in UTC is already 11 January in Moscow.
    const now = Date.UTC(2026, 0, 10, 23, 30);
    expect(tomorrowAt(now, 8, 0, 'UTC')).toBe(Date.UTC(2026, 0, 11, 8, 0));
    expect(tomorrowAt(now, 8, 0, 'Europe/Moscow')).toBe(Date.UTC(2026, 0, 12, 5, 0));
  });

  it('checks names and clock times', () => {
    expect(isTimeZone('Europe/Moscow')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    expect(effectiveZone('', 'Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(effectiveZone('Mars/Olympus', 'Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(effectiveZone('Europe/Moscow', 'Asia/Tokyo')).toBe('Europe/Moscow');
    expect(parseClock('07:05')).toBe(425);
    expect(parseClock('24:00')).toBe(null);
    expect(parseClock('7:05')).toBe(null);
    expect(parseClock(null)).toBe(null);
  });

  it('lists the zones the browser knows, with the given ones', () => {
    const list = timeZoneList(['Europe/Moscow']);
    expect(list).toContain('Europe/Moscow');
    expect(list).toContain('UTC');
    expect([...list].sort((a, b) => a.localeCompare(b))).toEqual(list);
  });
});
