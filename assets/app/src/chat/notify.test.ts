import { describe, expect, it } from 'vitest';
import { MUTED_FOR_GOOD, type NotifyLevel, type Preferences } from '../api';
import { dndActive, inQuietTime, matchesKeyword, mentionsMe, shouldNotify, type NotifyInput } from './notify';

const prefs = (extra: Partial<Preferences> = {}): Preferences => ({
  time_zone: '',
  dnd_until: null,
  dnd_start: null,
  dnd_end: null,
  keywords: [],
  read_receipts: true,
  language: '',
  ...extra,
});

// Moscow is UTC+3 all year; New York is UTC-5 in January.
const utc = (h: number, m = 0) => Date.UTC(2026, 0, 10, h, m);

describe('quiet time', () => {
  it('passes midnight on the clock of the chosen zone', () => {
    const quiet = (time: number) => inQuietTime(time, '22:00', '07:00', 'Europe/Moscow');
    expect(quiet(utc(18, 59))).toBe(false); // 21:59 in Moscow
    expect(quiet(utc(19, 0))).toBe(true); // 22:00: the start counts
    expect(quiet(utc(20, 30))).toBe(true); // 23:30
    expect(quiet(utc(21, 30))).toBe(true); // 00:30, the next day
    expect(quiet(utc(3, 59))).toBe(true); // 06:59
    expect(quiet(utc(4, 0))).toBe(false); // 07:00: the end does not
    expect(quiet(utc(9, 0))).toBe(false); // noon
  });

  it('depends on the zone: the same instant is quiet in one and not another', () => {
    // 03:00 UTC: 06:00 in Moscow, 22:00 the evening before in New York.
    expect(inQuietTime(utc(3), '22:00', '07:00', 'Europe/Moscow')).toBe(true);
    expect(inQuietTime(utc(3), '22:00', '07:00', 'America/New_York')).toBe(true);
    // 13:00 UTC: 16:00 in Moscow, 08:00 in New York.
    expect(inQuietTime(utc(13), '22:00', '07:00', 'Europe/Moscow')).toBe(false);
    expect(inQuietTime(utc(13), '07:00', '09:00', 'America/New_York')).toBe(true);
    expect(inQuietTime(utc(13), '07:00', '09:00', 'Europe/Moscow')).toBe(false);
  });

  it('within one day, and never for missing or equal times', () => {
    expect(inQuietTime(utc(9, 30), '12:00', '13:00', 'Europe/Moscow')).toBe(true); // 12:30
    expect(inQuietTime(utc(10), '12:00', '13:00', 'Europe/Moscow')).toBe(false); // 13:00
    expect(inQuietTime(utc(10), null, null, 'Europe/Moscow')).toBe(false);
    expect(inQuietTime(utc(10), '12:00', '12:00', 'Europe/Moscow')).toBe(false);
    expect(inQuietTime(utc(10), '25:00', '12:00', 'Europe/Moscow')).toBe(false);
  });
});

describe('do not disturb', () => {
  it('is on for a while, then off again', () => {
    expect(dndActive(prefs({ dnd_until: utc(12) }), utc(11), 'UTC')).toBe(true);
    expect(dndActive(prefs({ dnd_until: utc(12) }), utc(12), 'UTC')).toBe(false);
    expect(dndActive(prefs(), utc(12), 'UTC')).toBe(false);
    expect(dndActive(null, utc(12), 'UTC')).toBe(false);
  });

  it('uses the browser’s zone for the quiet time when none is chosen (or the chosen one is unknown)', () => {
    const p = prefs({ dnd_start: '22:00', dnd_end: '07:00' });
    expect(dndActive(p, utc(20, 30), 'Europe/Moscow')).toBe(true); // 23:30 there
    expect(dndActive(p, utc(20, 30), 'UTC')).toBe(false); // 20:30
    expect(dndActive({ ...p, time_zone: 'Europe/Moscow' }, utc(20, 30), 'UTC')).toBe(true);
    expect(dndActive({ ...p, time_zone: 'Mars/Olympus' }, utc(20, 30), 'Europe/Moscow')).toBe(true);
  });
});

describe('mentions and keywords', () => {
  it('finds @name, @channel / @here / @all', () => {
    expect(mentionsMe('hi @alice', 'alice')).toBe(true);
    expect(mentionsMe('hi @Alice.', 'alice')).toBe(true);
    expect(mentionsMe('@here lunch', 'alice')).toBe(true);
    expect(mentionsMe('@channel', 'alice')).toBe(true);
    expect(mentionsMe('@all', 'alice')).toBe(true);
    expect(mentionsMe('mail alice@example.org', 'alice')).toBe(false);
    expect(mentionsMe('@alicebob', 'alice')).toBe(false);
  });

  it('finds keywords as whole words or phrases, in any case and script', () => {
    const words = ['convoy', 'колонна', 'fuel truck'];
    expect(matchesKeyword('CONVOY at gate 3', words)).toBe(true);
    expect(matchesKeyword('Колонна вышла.', words)).toBe(true);
    expect(matchesKeyword('The fuel  truck, finally!', words)).toBe(true);
    expect(matchesKeyword('Fuel-Truck ready', words)).toBe(true);
    expect(matchesKeyword('two convoys', words)).toBe(false);
    expect(matchesKeyword('колонны', words)).toBe(false);
    expect(matchesKeyword('fuel trucks', words)).toBe(false);
    expect(matchesKeyword('anything', [])).toBe(false);
    expect(mentionsMe('the convoy left', 'alice', words)).toBe(true);
    expect(mentionsMe('the convoy left', 'alice')).toBe(false);
  });
});

describe('shouldNotify', () => {
  const base = (channel: { notify?: NotifyLevel; muted_until?: number | null } = {}, extra: Partial<NotifyInput> = {}): NotifyInput => ({
    now: utc(10),
    prefs: prefs(),
    browserZone: 'UTC',
    channel: { muted_until: null, ...channel },
    own: false,
    mentioned: false,
    ...extra,
  });

  it('notifies of every message from others by default, never of one’s own', () => {
    expect(shouldNotify(base())).toBe(true);
    expect(shouldNotify(base({ notify: 'all' }))).toBe(true);
    expect(shouldNotify(base({}, { own: true }))).toBe(false);
    expect(shouldNotify(base({}, { own: true, mentioned: true }))).toBe(false);
    expect(shouldNotify(base({}, { prefs: null }))).toBe(true);
  });

  it('follows the conversation’s level', () => {
    expect(shouldNotify(base({ notify: 'mentions' }))).toBe(false);
    expect(shouldNotify(base({ notify: 'mentions' }, { mentioned: true }))).toBe(true);
    expect(shouldNotify(base({ notify: 'none' }))).toBe(false);
    expect(shouldNotify(base({ notify: 'none' }, { mentioned: true }))).toBe(false);
  });

  it('tells of mentions only while muted, and everything again once the mute ends', () => {
    const muted = { notify: 'all' as const, muted_until: utc(11) };
    expect(shouldNotify(base(muted))).toBe(false);
    expect(shouldNotify(base(muted, { mentioned: true }))).toBe(true);
    expect(shouldNotify(base(muted, { now: utc(11) }))).toBe(true);
    expect(shouldNotify(base({ muted_until: MUTED_FOR_GOOD }))).toBe(false);
    expect(shouldNotify(base({ muted_until: MUTED_FOR_GOOD }, { mentioned: true }))).toBe(true);
    expect(shouldNotify(base({ notify: 'none', muted_until: utc(11) }, { mentioned: true }))).toBe(false);
  });

  it('says nothing at all during do not disturb, mentions included', () => {
    const dnd = prefs({ dnd_until: utc(12) });
    expect(shouldNotify(base({}, { prefs: dnd }))).toBe(false);
    expect(shouldNotify(base({}, { prefs: dnd, mentioned: true }))).toBe(false);
    expect(shouldNotify(base({}, { prefs: dnd, now: utc(12), mentioned: true }))).toBe(true);
    // The quiet time 22:00–07:00 in Moscow: 23:30 there is quiet, 08:00 is not.
    const quiet = prefs({ dnd_start: '22:00', dnd_end: '07:00', time_zone: 'Europe/Moscow' });
    expect(shouldNotify(base({}, { prefs: quiet, now: utc(20, 30), mentioned: true }))).toBe(false);
    expect(shouldNotify(base({}, { prefs: quiet, now: utc(5), mentioned: true }))).toBe(true);
  });
});
