import { parseSync, type ESTree } from 'vite';
import { describe, expect, it } from 'vitest';
import { COMMON_ERRORS } from './errors';
import { catalogs, formatDateTime, interpolate, pickLocale, translate, type Message, type MessageKey } from './i18n';

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

// ---- The string sweep: every user-visible string exists in both languages ----
//
// The source is parsed (Oxc, through Vite) rather than grepped, so that a key in a comment or a
// class name that happens to contain a dot does not count, and JSX text is told from code.

const sources = import.meta.glob<string>(['./**/*.{ts,tsx}', '!./**/*.test.{ts,tsx}', '!./**/*.test-util.ts', '!./i18n.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

const parsed = Object.entries(sources).map(([file, text]) => {
  const { program, errors } = parseSync(file, text);
  return { file, program, errors: errors.map((e) => e.message) };
});

type Node = ESTree.Node;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** Every node under `root`, depth first, with its ancestors (nearest last). */
function walk(root: Node, visit: (node: Node, ancestors: readonly Node[]) => void): void {
  const ancestors: Node[] = [];
  const go = (node: Node) => {
    visit(node, ancestors);
    ancestors.push(node);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'parent') continue;
      if (Array.isArray(value)) {
        for (const child of value) if (isNode(child)) go(child);
      } else if (isNode(value)) {
        go(value);
      }
    }
    ancestors.pop();
  };
  go(root);
}

/** The name of what is called: `t` for `t(…)`, `alert` for `window.alert(…)`. */
function calleeName(node: Node): string | null {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression' && !node.computed && node.property.type === 'Identifier') return node.property.name;
  return null;
}

function stringValue(node: Node | null | undefined): string | null {
  return node && node.type === 'Literal' && typeof node.value === 'string' ? node.value : null;
}

/**
 * The constant text an expression can put on the screen: literals, template text, both branches
 * of `?:`, `&&`, `||`, `+`. Calls (such as `t('key')`) and variables give nothing.
 */
function shownText(node: Node | null | undefined): string[] {
  if (!node) return [];
  switch (node.type) {
    case 'Literal':
      return typeof node.value === 'string' ? [node.value] : [];
    case 'TemplateLiteral':
      return node.quasis.map((q) => q.value.cooked ?? q.value.raw);
    case 'ConditionalExpression':
      return [...shownText(node.consequent), ...shownText(node.alternate)];
    case 'LogicalExpression':
      return [...shownText(node.left), ...shownText(node.right)];
    case 'BinaryExpression':
      return node.operator === '+' ? [...shownText(node.left), ...shownText(node.right)] : [];
    case 'ParenthesizedExpression':
    case 'TSAsExpression':
    case 'TSNonNullExpression':
      return shownText(node.expression);
    default:
      return [];
  }
}

const hasWords = (text: string) => /\p{L}/u.test(text);

const enCatalog: Readonly<Record<string, Message>> = catalogs.en;
const ruCatalog: Readonly<Record<string, Message>> = catalogs.ru;
const namespaces = new Set(Object.keys(enCatalog).map((k) => k.split('.')[0]!));

function sweepPlaceholders(message: Message): string[] {
  const texts = typeof message === 'string' ? [message] : Object.values(message);
  return [...new Set(texts.flatMap((text) => (text ?? '').match(/\{(\w+)\}/g) ?? []))].map((p) => p.slice(1, -1)).sort();
}

function messageTexts(message: Message | undefined): string[] {
  if (message === undefined) return [];
  return typeof message === 'string' ? [message] : Object.values(message).filter((v): v is string => typeof v === 'string');
}

/** Why a key cannot be shown in both languages, or null when it can. */
function keyProblem(key: string): string | null {
  const en = enCatalog[key];
  const ru = ruCatalog[key];
  if (en === undefined) return 'missing in English';
  if (ru === undefined) return 'missing in Russian';
  if (!messageTexts(en).every((s) => s.trim())) return 'empty in English';
  if (!messageTexts(ru).every((s) => s.trim())) return 'empty in Russian';
  if (sweepPlaceholders(en).join() !== sweepPlaceholders(ru).join()) {
    return `placeholders differ: {${sweepPlaceholders(en).join('}, {')}} / {${sweepPlaceholders(ru).join('}, {')}}`;
  }
  return null;
}

/** Dotted strings in the code that are not message keys although they look like some. */
const NOT_KEYS = new Set([
  // WebSocket event types.
  'message.new',
  'message.updated',
  'channel.updated',
]);

/** Messages that read the same in Russian: names, protocol words, examples of technical input. */
const SAME_IN_RUSSIAN = new Set([
  'app.name',
  'message.system',
  'sidebar.jumpKey',
  'call.ports.udp',
  'call.ports.tcp',
  'outgoing.triggersPlaceholder',
  'outgoing.urlPlaceholder',
  'lang.en',
  'lang.ru',
  'audit.someone',
]);

/** JSX attributes (and props of our components) whose value is read or heard by people. */
const SHOWN_ATTRIBUTES = new Set([
  'alt',
  'aria-description',
  'aria-label',
  'aria-placeholder',
  'aria-roledescription',
  'aria-valuetext',
  'docTitle',
  'error',
  'hint',
  'intro',
  'label',
  'menuLabel',
  'placeholder',
  'title',
]);

/** Text in JSX that is the same in every language (none yet: add with the reason). */
const TECHNICAL_TEXT = new Set<string>([]);

/** Functions whose argument people read: it must come from `t()` or `describeError()`. */
const SHOWING_CALLS = new Set(['alert', 'confirm', 'prompt', 'showToast']);

describe('the string sweep', () => {
  it('reads the whole app', () => {
    expect(parsed.length).toBeGreaterThan(80);
    expect(parsed.map((p) => p.file)).toContain('./views/chat/ChannelView.tsx');
    expect(parsed.filter((p) => p.errors.length).map((p) => `${p.file}: ${p.errors.join('; ')}`)).toEqual([]);
  });

  it('every key the code uses exists in both languages, with the same placeholders, given by the call', () => {
    const problems: string[] = [];
    const used = new Set<string>();
    for (const { file, program } of parsed) {
      walk(program, (node) => {
        // Keys anywhere: t('…'), MessageKey constants, error maps, `as MessageKey`.
        const literal = stringValue(node);
        if (literal !== null && /^[a-z][\w-]*(\.[\w-]+)+$/.test(literal) && namespaces.has(literal.split('.')[0]!)) {
          if (literal in enCatalog) used.add(literal);
          else if (!NOT_KEYS.has(literal)) problems.push(`${file}: “${literal}” looks like a key but is none`);
        }
        if (node.type !== 'CallExpression' || calleeName(node.callee) !== 't') return;
        const [keyArg, paramsArg] = node.arguments;
        if (keyArg?.type === 'TemplateLiteral') {
          const prefix = keyArg.quasis[0]?.value.cooked ?? '';
          if (!Object.keys(enCatalog).some((k) => k.startsWith(prefix))) problems.push(`${file}: no key starts with “${prefix}”`);
          return;
        }
        const key = stringValue(keyArg);
        if (key === null) return;
        const problem = keyProblem(key);
        if (problem) {
          problems.push(`${file}: t('${key}'): ${problem}`);
          return;
        }
        // The placeholders a call leaves out would show as "{name}".
        if (paramsArg?.type !== 'ObjectExpression' && paramsArg !== undefined) return;
        const given = new Set<string>();
        for (const p of paramsArg?.properties ?? []) {
          if (p.type === 'SpreadElement') return;
          if (p.key.type === 'Identifier') given.add(p.key.name);
          else if (p.key.type === 'Literal') given.add(String(p.key.value));
        }
        const missing = sweepPlaceholders(enCatalog[key]!).filter((name) => !given.has(name));
        if (missing.length) problems.push(`${file}: t('${key}') does not give {${missing.join('}, {')}}`);
      });
    }
    expect(problems).toEqual([]);
    // The sweep sees the keys in use (most of the catalog; the rest are built as `audit.${code}` and the like).
    expect(used.size).toBeGreaterThan(Object.keys(enCatalog).length * 0.8);
  });

  it('every message of either catalog has text', () => {
    for (const key of Object.keys(enCatalog)) expect(keyProblem(key), key).toBeNull();
    for (const key of Object.keys(ruCatalog)) expect(key in enCatalog, key).toBe(true);
  });

  it('Russian is translated, except for names and technical examples', () => {
    const words = (message: Message) => messageTexts(message).join(' ').replace(/\{\w+\}/g, '');
    const untranslated = Object.keys(enCatalog).filter((key) => {
      const en = enCatalog[key]!;
      const ru = ruCatalog[key]!;
      return hasWords(words(en)) && JSON.stringify(en) === JSON.stringify(ru) && !SAME_IN_RUSSIAN.has(key);
    });
    expect(untranslated).toEqual([]);
    for (const key of SAME_IN_RUSSIAN) expect(key in enCatalog, `${key} (allow-listed) is a key`).toBe(true);
  });

  it('JSX shows no text that does not go through t()', () => {
    const found: string[] = [];
    for (const { file, program } of parsed) {
      if (!file.endsWith('.tsx')) continue;
      walk(program, (node, ancestors) => {
        const parent = ancestors[ancestors.length - 1];
        let texts: string[] = [];
        let where = '';
        if (node.type === 'JSXText') {
          texts = [node.value.trim()];
          where = 'text ';
        } else if (node.type === 'JSXExpressionContainer' && (parent?.type === 'JSXElement' || parent?.type === 'JSXFragment')) {
          texts = node.expression.type === 'JSXEmptyExpression' ? [] : shownText(node.expression);
          where = 'text ';
        } else if (node.type === 'JSXAttribute' && node.name.type === 'JSXIdentifier' && SHOWN_ATTRIBUTES.has(node.name.name)) {
          const value = node.value;
          texts = !value ? [] : value.type === 'JSXExpressionContainer' ? (value.expression.type === 'JSXEmptyExpression' ? [] : shownText(value.expression)) : shownText(value);
          where = `${node.name.name}=`;
        }
        for (const text of texts) {
          if (hasWords(text) && !TECHNICAL_TEXT.has(text.trim())) found.push(`${file}: ${where}${JSON.stringify(text.trim())}`);
        }
      });
    }
    expect(found).toEqual([]);
  });

  it('alerts, confirmations and toasts show translated text, not English from the code or the server', () => {
    const found: string[] = [];
    for (const { file, program } of parsed) {
      walk(program, (node) => {
        if (node.type !== 'CallExpression' && node.type !== 'NewExpression') return;
        const name = calleeName(node.callee);
        const shows = node.type === 'CallExpression' ? SHOWING_CALLS.has(name ?? '') : name === 'Notification';
        if (!shows) return;
        const first = node.arguments[0];
        if (!first || first.type === 'SpreadElement') return;
        if (shownText(first).some(hasWords)) found.push(`${file}: ${name}(${JSON.stringify(shownText(first).join('…'))})`);
        // An error's own message is English (or the server's words); describeError() translates it.
        if (first.type === 'MemberExpression' && calleeName(first) === 'message') found.push(`${file}: ${name}(….message)`);
      });
    }
    expect(found).toEqual([]);
  });

  it('errors the client makes up itself are translated (their own message is English)', () => {
    const codes: string[] = [];
    for (const { program } of parsed) {
      walk(program, (node) => {
        if (node.type === 'NewExpression' && calleeName(node.callee) === 'ApiError') {
          const code = stringValue(node.arguments[1] as Node | undefined);
          if (code !== null) codes.push(code);
        }
      });
    }
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(COMMON_ERRORS[code], `COMMON_ERRORS['${code}']`).toBeDefined();
  });

  it('every error code the client maps points to a message in both languages', () => {
    const maps: { where: string; keys: string[] }[] = [
      { where: 'COMMON_ERRORS', keys: Object.values(COMMON_ERRORS).filter((k): k is MessageKey => k !== undefined) },
    ];
    const keysOf = (node: Node | null | undefined): string[] | null => {
      if (!node) return null;
      if (node.type === 'TSAsExpression' || node.type === 'TSSatisfiesExpression' || node.type === 'ParenthesizedExpression') return keysOf(node.expression);
      if (node.type !== 'ObjectExpression') return null;
      return node.properties.flatMap((p) => (p.type === 'Property' ? shownText(p.value) : []));
    };
    for (const { file, program } of parsed) {
      const constants = new Map<string, Node>();
      walk(program, (node) => {
        if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier' && node.init) constants.set(node.id.name, node.init);
      });
      walk(program, (node) => {
        // const X: ErrorMessages = {…}
        if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier') {
          const annotation = node.id.typeAnnotation?.typeAnnotation;
          if (annotation?.type === 'TSTypeReference' && annotation.typeName.type === 'Identifier' && annotation.typeName.name === 'ErrorMessages') {
            const keys = keysOf(node.init);
            if (keys) maps.push({ where: `${file} ${node.id.name}`, keys });
          }
        }
        // describeError(err, {…}) or describeError(err, SOME_CONSTANT)
        if (node.type === 'CallExpression' && calleeName(node.callee) === 'describeError' && node.arguments[1]) {
          const arg = node.arguments[1] as Node;
          const keys = keysOf(arg.type === 'Identifier' ? constants.get(arg.name) : arg);
          if (keys) maps.push({ where: `${file} describeError`, keys });
        }
      });
    }
    // The views' own maps are found (webhooks, bots, sign-in, two-step sign-in, photos…).
    expect(maps.length).toBeGreaterThan(15);
    const problems = maps.flatMap(({ where, keys }) =>
      keys.map((key) => [key, keyProblem(key)] as const).filter(([, p]) => p).map(([key, p]) => `${where}: ${key}: ${p}`),
    );
    expect(problems).toEqual([]);
  });
});
