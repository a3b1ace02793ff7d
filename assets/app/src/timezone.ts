// Time zone helpers (pure but for the browser's own zone): wall-clock time in an IANA zone,
// the instant of a wall-clock time there, and the list of zones to choose from.

/** The browser's time zone ("Europe/Moscow"), or UTC when it cannot say. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

const formats = new Map<string, Intl.DateTimeFormat | null>();

function format(zone: string): Intl.DateTimeFormat | null {
  let f = formats.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        hourCycle: 'h23',
      });
    } catch {
      f = null; // not a zone this browser knows
    }
    formats.set(zone, f);
  }
  return f;
}

/** Whether the browser knows this IANA zone name. */
export function isTimeZone(zone: string): boolean {
  return zone !== '' && format(zone) !== null;
}

/** The zone to use: `zone` when the browser knows it, else `fallback` (the browser's). */
export function effectiveZone(zone: string | null | undefined, fallback: string = browserTimeZone()): string {
  return zone && isTimeZone(zone) ? zone : fallback;
}

export interface WallClock {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  /** 0–23. */
  hour: number;
  minute: number;
}

/** The date and time a clock in `zone` shows at `time` (ms); UTC for an unknown zone. */
export function wallClock(time: number, zone: string): WallClock {
  const f = format(zone) ?? format('UTC');
  if (!f) {
    const d = new Date(time);
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(time)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
  };
}

/** Minutes since midnight on a clock in `zone` at `time`. */
export function minuteOfDay(time: number, zone: string): number {
  const c = wallClock(time, zone);
  return c.hour * 60 + c.minute;
}

/**
 * The instant (ms) a clock in `zone` shows this date and time. Days overflow as in `Date.UTC`
 * (day 32 is the next month's first). A time skipped by a clock change comes out an hour later.
 */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, zone: string): number {
  const wanted = Date.UTC(year, month - 1, day, hour, minute);
  const offsetAt = (t: number) => {
    const c = wallClock(t, zone);
    return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute) - Math.floor(t / 60_000) * 60_000;
  };
  let t = wanted - offsetAt(wanted);
  const second = offsetAt(t);
  if (wanted - second !== t) t = wanted - second;
  return t;
}

/** The next day's `hour:minute` on a clock in `zone`, seen from `now`. */
export function tomorrowAt(now: number, hour: number, minute: number, zone: string): number {
  const c = wallClock(now, zone);
  return zonedTime(c.year, c.month, c.day + 1, hour, minute, zone);
}

/** "HH:MM" → minutes since midnight, or null. */
export function parseClock(text: string | null | undefined): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(text ?? '');
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : null;
}

/**
 * The zones to offer: every zone the browser knows (`Intl.supportedValuesOf`), else a short
 * list; `include` (the browser's, the chosen one) are always there. Sorted by name.
 */
export function timeZoneList(include: readonly string[] = []): string[] {
  let all: string[] = [];
  try {
    const supported = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
    if (typeof supported === 'function') all = supported('timeZone');
  } catch {
    all = [];
  }
  if (!all.length) all = ['UTC', 'Europe/London', 'Europe/Berlin', 'Europe/Kaliningrad', 'Europe/Moscow', 'Asia/Yekaterinburg', 'Asia/Novosibirsk', 'Asia/Vladivostok', 'America/New_York'];
  const set = new Set(all);
  for (const z of include) if (z) set.add(z);
  if (!set.has('UTC')) set.add('UTC');
  return [...set].sort((a, b) => a.localeCompare(b));
}
