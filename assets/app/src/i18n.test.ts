import { describe, expect, it } from 'vitest';
import { catalogs, formatDateTime, interpolate, pickLocale, translate, type Message } from './i18n';

describe('pickLocale', () => {
  it('takes the first supported language in order of preference', () => {
    expect(pickLocale(['de-DE', 'ru-RU', 'en-US'])).toBe('ru');
    expect(pickLocale(['en-GB', 'ru'])).toBe('en');
  });

  it('matches regional and oddly written tags by their primary subtag', () => {
    expect(pickLocale(['RU'])).toBe('ru');
    expect(pickLocale(['ru_RU'])).toBe('ru');
    expect(pickLocale([' ru-Cyrl-RU '])).toBe('ru');
  });

  it('falls back to English', () => {
    expect(pickLocale(['de', 'fr-FR'])).toBe('en');
    expect(pickLocale([])).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
    expect(pickLocale([''])).toBe('en');
  });
});

describe('translate', () => {
  const tables = {
    en: { greet: 'Hello, {name}', only_en: 'English only', apples: { one: '{n} apple', other: '{n} apples' } },
    ru: {
      greet: 'Привет, {name}',
      apples: { one: '{n} яблоко', few: '{n} яблока', many: '{n} яблок', other: '{n} яблока' },
    },
  } satisfies Record<string, Record<string, Message>>;

  it('looks the key up in the requested locale', () => {
    expect(translate(tables, 'ru', 'greet', { name: 'Аня' })).toBe('Привет, Аня');
    expect(translate(tables, 'en', 'greet', { name: 'Ann' })).toBe('Hello, Ann');
  });

  it('falls back to English, then to the key itself', () => {
    expect(translate(tables, 'ru', 'only_en')).toBe('English only');
    expect(translate(tables, 'de', 'greet', { name: 'X' })).toBe('Hello, X');
    expect(translate(tables, 'ru', 'no.such.key')).toBe('no.such.key');
  });

  it('selects plural forms by the rules of the language', () => {
    const ru = (n: number) => translate(tables, 'ru', 'apples', { n });
    expect(ru(1)).toBe('1 яблоко');
    expect(ru(3)).toBe('3 яблока');
    expect(ru(5)).toBe('5 яблок');
    expect(ru(11)).toBe('11 яблок');
    expect(ru(21)).toBe('21 яблоко');
    expect(translate(tables, 'en', 'apples', { n: 1 })).toBe('1 apple');
    expect(translate(tables, 'en', 'apples', { n: 0 })).toBe('0 apples');
  });

  it('uses English plural rules for an English fallback', () => {
    const tablesWithoutRu = { en: tables.en, ru: {} };
    expect(translate(tablesWithoutRu, 'ru', 'apples', { n: 2 })).toBe('2 apples');
  });
});

describe('interpolate', () => {
  it('replaces known placeholders and leaves unknown ones', () => {
    expect(interpolate('{a} and {b}', { a: 1 })).toBe('1 and {b}');
    expect(interpolate('no params')).toBe('no params');
    expect(interpolate('{a}{a}', { a: 'x' })).toBe('xx');
  });
});

describe('catalogs', () => {
  const placeholders = (message: Message): string[] => {
    const texts = typeof message === 'string' ? [message] : Object.values(message);
    return [...new Set(texts.flatMap((text) => text.match(/\{\w+\}/g) ?? []))].sort();
  };

  it('Russian has exactly the English keys', () => {
    expect(Object.keys(catalogs.ru).sort()).toEqual(Object.keys(catalogs.en).sort());
  });

  it('translations use the same placeholders as English', () => {
    for (const [key, message] of Object.entries(catalogs.en)) {
      const ru = catalogs.ru[key as keyof typeof catalogs.ru];
      expect(placeholders(ru), key).toEqual(placeholders(message));
    }
  });

  it('plural messages have the forms their language needs', () => {
    for (const [locale, catalog] of Object.entries(catalogs)) {
      const needed = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
      for (const [key, message] of Object.entries(catalog)) {
        if (typeof message === 'string') continue;
        for (const category of needed) {
          expect(message[category], `${locale} ${key} ${category}`).toBeTypeOf('string');
        }
      }
    }
  });

  it('the retry message reads naturally in both languages', () => {
    expect(translate(catalogs, 'en', 'error.tooManyAttempts', { n: 30 })).toBe(
      'Too many attempts, try again in 30 seconds.',
    );
    expect(translate(catalogs, 'en', 'error.tooManyAttempts', { n: 1 })).toBe(
      'Too many attempts, try again in 1 second.',
    );
    expect(translate(catalogs, 'ru', 'error.tooManyAttempts', { n: 5 })).toBe(
      'Слишком много попыток, повторите через 5 секунд.',
    );
    expect(translate(catalogs, 'ru', 'error.tooManyAttempts', { n: 21 })).toBe(
      'Слишком много попыток, повторите через 21 секунду.',
    );
  });
});

describe('formatDateTime', () => {
  it('formats RFC 3339 timestamps and passes through garbage', () => {
    expect(formatDateTime('2025-03-04T05:06:07Z', 'en')).toMatch(/2025/);
    expect(formatDateTime('not a date', 'en')).toBe('not a date');
  });
});

describe('the language from the preferences', () => {
  it('applies at once, tells the listeners, and is remembered on this device', async () => {
    const { applyLanguage, getLocale, onLocaleChange, setLocale } = await import('./i18n');
    const store = new Map<string, string>();
    const fake = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    };
    const had = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
    Object.defineProperty(globalThis, 'localStorage', { value: fake, configurable: true });
    try {
      setLocale('en');
      const seen: string[] = [];
      const off = onLocaleChange((l) => seen.push(l));
      applyLanguage('ru');
      expect(getLocale()).toBe('ru');
      expect(store.get('outpost.language')).toBe('ru');
      applyLanguage('ru');
      applyLanguage('');
      // The browser's language (none here: English), and nothing remembered.
      expect(getLocale()).toBe('en');
      expect(store.has('outpost.language')).toBe(false);
      expect(seen).toEqual(['ru', 'en']);
      off();
      applyLanguage('ru');
      expect(seen).toEqual(['ru', 'en']);
      setLocale('en');
    } finally {
      if (had) Object.defineProperty(globalThis, 'localStorage', had);
      else delete (globalThis as { localStorage?: unknown }).localStorage;
    }
  });
});
