import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, NetworkError, type ErrorParams } from './api';
import { codeMessageKey, describeError, describeProblem, FIELD_LABELS, isUnauthorized } from './errors';
import { catalogs, setLocale, type Locale } from './i18n';

describe('describeError', () => {
  beforeAll(() => setLocale('en'));

  it('explains network failures', () => {
    expect(describeError(new NetworkError())).toMatch(/Cannot reach the Outpost server/);
  });

  it('prefers the per-view message for a status', () => {
    const err = new ApiError(401, 'invalid-credentials', 'Invalid credentials');
    expect(describeError(err, { 401: 'login.wrongCredentials' })).toBe('Wrong user name or password.');
  });

  it('shows the retry delay for 429', () => {
    expect(describeError(new ApiError(429, 'rate-limited', 'x', 12))).toBe(
      'Too many attempts, try again in 12 seconds.',
    );
    expect(describeError(new ApiError(429, 'rate-limited', 'x', null))).toBe(
      'Too many attempts, try again later.',
    );
  });

  it('can pick the message by error code before status', () => {
    const messages = { 'wrong-password': 'profile.password.wrongCurrent', 403: 'login.wrongCredentials' } as const;
    expect(describeError(new ApiError(403, 'wrong-password', 'x'), messages)).toBe(
      'The current password is wrong.',
    );
    expect(describeError(new ApiError(403, 'forbidden', 'x'), messages)).toBe(
      'Wrong user name or password.',
    );
  });

  it('localizes the codes of two-step sign-in in every view, before a message for the status', () => {
    const login = { 401: 'login.wrongCredentials' } as const;
    expect(describeError(new ApiError(401, 'wrong-code', 'wrong code'), login)).toBe('Wrong code. Try again.');
    expect(describeError(new ApiError(401, 'invalid-credentials', 'x'), login)).toBe('Wrong user name or password.');
    expect(describeError(new ApiError(403, 'wrong-password', 'x'))).toBe('Wrong password.');
    expect(describeError(new ApiError(403, 'two-factor-required', 'x'))).toBe(
      'Your administrator requires two-step sign-in, so you cannot turn it off.',
    );
    expect(describeError(new ApiError(403, 'two-factor-enrolment-required', 'x'))).toBe(
      'Set up two-step sign-in first: your administrator requires it.',
    );
    // A view's own message for the code still wins.
    expect(
      describeError(new ApiError(403, 'wrong-password', 'x'), { 'wrong-password': 'profile.password.wrongCurrent' }),
    ).toBe('The current password is wrong.');
  });

  it('localizes the profile and photo codes', () => {
    expect(describeError(new ApiError(409, 'managed-by-directory', 'the job title comes from the directory'))).toBe(
      'This comes from your organisation’s directory and cannot be changed here.',
    );
    expect(describeError(new ApiError(422, 'bad-photo', 'unsupported image'))).toBe(
      'Outpost cannot read this file as a picture. Use a JPEG, PNG, WebP or GIF image.',
    );
    expect(describeError(new ApiError(413, 'payload-too-large', 'the request body is too large'))).toBe(
      'This is too large to send.',
    );
    // A view may say it for its own case.
    expect(
      describeError(new ApiError(413, 'payload-too-large', 'x'), { 'payload-too-large': 'profile.photo.tooLarge' }),
    ).toBe('This picture is larger than 10 MB. Choose a smaller one.');
    setLocale('ru');
    try {
      expect(describeError(new ApiError(409, 'managed-by-directory', 'x'))).toBe(
        'Это берётся из каталога организации, и здесь это изменить нельзя.',
      );
    } finally {
      setLocale('en');
    }
  });

  it('says a deactivated account cannot sign in, in both languages', () => {
    expect(describeError(new ApiError(403, 'account-disabled', 'this account is disabled'))).toBe(
      'This account is deactivated. Ask an administrator to enable it again.',
    );
    setLocale('ru');
    try {
      expect(describeError(new ApiError(403, 'account-disabled', 'x'), { 401: 'login.wrongCredentials' })).toBe(
        'Эта учётная запись отключена. Попросите администратора снова её включить.',
      );
    } finally {
      setLocale('en');
    }
  });

  it("falls back, in English only, to the server's sentence for an unknown code, then to the status", () => {
    expect(describeError(new ApiError(400, 'invalid', 'The password is too short.'))).toBe(
      'The password is too short.',
    );
    expect(describeError(new ApiError(400, 'invalid', 'password must have at least 8 characters'))).toBe(
      'Password must have at least 8 characters.',
    );
    expect(describeError(new ApiError(502, 'http-502', ''))).toBe(
      'The server failed and nothing was stored. Try again later.',
    );
    expect(describeError(new ApiError(418, 'http-418', ''))).toBe('Something went wrong (error 418). Please try again.');
    expect(describeError(new Error('boom'))).toBe('Something went wrong. Please try again.');
  });

  it("prefers the code's own sentence to the server's, in English too", () => {
    expect(describeError(new ApiError(409, 'channel-name-taken', 'a channel with that name exists'))).toBe(
      'A channel with this name already exists.',
    );
  });

  it('translates into the current language', () => {
    setLocale('ru');
    try {
      expect(describeError(new ApiError(401, 'x', 'y'), { 401: 'login.wrongCredentials' })).toBe(
        'Неверное имя пользователя или пароль.',
      );
    } finally {
      setLocale('en');
    }
  });
});

describe('isUnauthorized', () => {
  it('is true only for 401 API errors', () => {
    expect(isUnauthorized(new ApiError(401, 'unauthorized', ''))).toBe(true);
    expect(isUnauthorized(new ApiError(403, 'forbidden', ''))).toBe(false);
    expect(isUnauthorized(new NetworkError())).toBe(false);
  });
});

// ---- Every server code, in both languages (docs/protocol.md, "Errors") ----------------------

const ROOT = join(__dirname, '..', '..', '..');

/** The codes and statuses of the protocol's error table, read from the document itself. */
function protocolCodes(): { code: string; status: number }[] {
  const doc = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');
  const section = doc.slice(doc.indexOf('\n## Errors'));
  const rows: { code: string; status: number }[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const [codes = '', statuses = ''] = line.split('|').slice(1).map((cell) => cell.trim());
    // Parameter names are in parentheses after their code: `bad-keywords` (`max`, `chars`).
    const names = [...codes.replace(/\([^)]*\)/g, '').matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!);
    const first = /\d{3}|5xx/.exec(statuses)?.[0] ?? '400';
    const status = first === '5xx' ? 500 : Number(first);
    for (const code of names) rows.push({ code, status });
  }
  return rows;
}

/** Values for every parameter the server sends (docs/protocol.md, src/problem.rs callers). */
const SAMPLE_PARAMS: ErrorParams = { max: 64, min: 8, chars: 40, char: 'U+200B', first: 'Latin', second: 'Cyrillic', size: 100 };

/**
 * Runs of 3+ Latin letters allowed in a Russian sentence: names and protocol words. The same
 * heuristic as the browser pass (e2e/russian.mjs).
 */
const LATIN_ALLOWED = new Set(['outpost', 'http', 'https', 'jpeg', 'png', 'webp', 'gif']);

function englishWords(text: string): string[] {
  return [...text.matchAll(/[A-Za-z]{3,}/g)].map((m) => m[0]).filter((w) => !LATIN_ALLOWED.has(w.toLowerCase()));
}

function inLocale<T>(locale: Locale, run: () => T): T {
  setLocale(locale);
  try {
    return run();
  } finally {
    setLocale('en');
  }
}

describe('server error codes', () => {
  afterEach(() => setLocale('en'));
  const rows = protocolCodes();

  it('reads the table of docs/protocol.md', () => {
    expect(rows.length).toBeGreaterThan(90);
    expect(rows).toContainEqual({ code: 'too-long', status: 400 });
    expect(rows).toContainEqual({ code: 'channel-name-taken', status: 409 });
    expect(rows).toContainEqual({ code: 'internal', status: 500 });
    // Parameter names are not codes.
    expect(rows.map((r) => r.code)).not.toContain('chars');
  });

  it('every code of the table has its own sentence in English and Russian, with or without params', () => {
    const missing = rows.filter(({ code }) => codeMessageKey(code, null, SAMPLE_PARAMS) === null || codeMessageKey(code) === null);
    expect(missing.map((r) => r.code)).toEqual([]);
    for (const { code } of rows) {
      for (const params of [SAMPLE_PARAMS, {}]) {
        const key = codeMessageKey(code, null, params)!;
        expect(catalogs.en[key], `${code} → ${key}`).toBeDefined();
        expect(catalogs.ru[key], `${code} → ${key}`).toBeDefined();
      }
    }
  });

  it('in Russian, every code reads as Russian, with its params filled in and never the server sentence', () => {
    const message = 'the server says this in English';
    for (const { code, status } of rows) {
      for (const params of [SAMPLE_PARAMS, {}]) {
        const ru = inLocale('ru', () => describeProblem({ status, code, params, message }));
        expect(ru, code).not.toContain(message);
        expect(ru, code).toMatch(/\p{Script=Cyrillic}/u);
        expect(englishWords(ru), `${code}: ${ru}`).toEqual([]);
        expect(ru, code).not.toMatch(/\{\w+\}/);
        const en = describeProblem({ status, code, params, message });
        expect(en, code).not.toMatch(/\{\w+\}/);
        expect(en, code).not.toContain(message);
      }
    }
  });

  it('the WebSocket-only codes are translated too', () => {
    for (const code of ['malformed-frame', 'too-many-pending']) expect(codeMessageKey(code)).not.toBeNull();
  });
});

describe('fields and params', () => {
  afterEach(() => setLocale('en'));

  it('interpolates the limit, with the plural the number needs', () => {
    const topic = (max: number) => new ApiError(400, 'too-long', 'a topic is at most 250 characters', null, 'topic', { max });
    expect(describeError(topic(250))).toBe('Topic: too long, at most 250 characters.');
    expect(describeError(topic(1))).toBe('Topic: too long, at most 1 character.');
    inLocale('ru', () => {
      expect(describeError(topic(250))).toBe('Тема: слишком длинно, можно не больше 250 символов.');
      expect(describeError(topic(21))).toBe('Тема: слишком длинно, можно не больше 21 символа.');
      expect(describeError(topic(3))).toBe('Тема: слишком длинно, можно не больше 3 символов.');
    });
  });

  it('names the hidden character, and the alphabets a word mixes in the reader’s language', () => {
    const hidden = new ApiError(400, 'hidden-characters', 'x', null, 'display_name', { char: 'U+200B' });
    expect(describeError(hidden)).toBe(
      'Display name: contains an invisible or text-direction character (U+200B). Remove it and type the text again.',
    );
    const mixed = new ApiError(400, 'mixed-script', 'x', null, 'name', { first: 'Latin', second: 'Cyrillic' });
    expect(describeError(mixed)).toMatch(/^Name: mixes Latin and Cyrillic letters in one word/);
    inLocale('ru', () => {
      expect(describeError(hidden)).toBe(
        'Отображаемое имя: есть невидимый символ или символ направления текста (U+200B). Уберите его и наберите текст заново.',
      );
      expect(describeError(mixed)).toMatch(/^Название: в одном слове смешаны буквы разных алфавитов \(латиница и кириллица\)/);
      for (const script of ['Greek', 'Armenian', 'Cherokee']) {
        const text = describeError(new ApiError(400, 'mixed-script', 'x', null, null, { first: script, second: 'Latin' }));
        expect(englishWords(text), text).toEqual([]);
      }
      // An alphabet this client does not know yet is not named in English.
      const unknown = describeError(new ApiError(400, 'mixed-script', 'x', null, null, { first: 'Georgian', second: 'Latin' }));
      expect(unknown).toContain('(другой алфавит и латиница)');
    });
  });

  it('uses the field’s own sentence where the unit differs, and the plain one without params', () => {
    expect(describeError(new ApiError(400, 'too-long', 'x', null, 'retention_days', { max: 36500 }))).toBe(
      'Message retention: at most 36500 days (0 keeps messages forever).',
    );
    // An older server: no params.
    expect(describeError(new ApiError(400, 'too-long', 'a topic is at most 250 characters', null, 'topic'))).toBe('Topic: too long.');
    expect(describeError(new ApiError(400, 'bad-password-length', 'x'))).toBe('A password is 8 to 1024 characters long.');
  });

  it('starts the sentence in lower case after the label, keeping capitals that are not a sentence start', () => {
    expect(describeError(new ApiError(400, 'bad-receiver-url', 'x', null, 'url'))).toMatch(/^URL: use http:\/\/IP-ADDRESS/);
    inLocale('ru', () =>
      expect(describeError(new ApiError(400, 'bad-receiver-url', 'x', null, 'url'))).toMatch(/^Адрес: нужен адрес вида http:\/\/IP-АДРЕС/),
    );
  });

  it('has a label in both languages for every field the server names (read from its sources)', () => {
    const fields = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.rs')) {
          const text = readFileSync(path, 'utf8');
          // .field("topic"), a TextError's .problem("name"), the profile's field("a job title", "title", …)
          // and valid_name(name, "a webhook's name", "name").
          for (const re of [/\.field\("([^"]+)"\)/g, /\.problem\("([^"]+)"\)/g, /\bfield\("[^"]*",\s*"([^"]+)"/g, /valid_name\([^)]*,\s*"([^"]+)"\)/g]) {
            for (const m of text.matchAll(re)) fields.add(m[1]!);
          }
        }
      }
    };
    walk(join(ROOT, 'src'));
    expect(fields.size).toBeGreaterThan(30);
    for (const required of ['topic', 'display_name', 'name', 'body', 'title', 'department']) expect(fields).toContain(required);
    const unlabelled = [...fields].filter((f) => !FIELD_LABELS[f]);
    expect(unlabelled).toEqual([]);
    for (const key of Object.values(FIELD_LABELS)) {
      expect(catalogs.en[key]).toBeDefined();
      expect(englishWords(String(catalogs.ru[key])), key).toEqual([]);
    }
  });

  it('reads a stored refusal (the outbox keeps code, field and params) in the current language', () => {
    const failure = { code: 'too-many-files', field: 'attachments', params: { max: 10 } };
    expect(describeProblem(failure)).toBe('Files: at most 10 files in one message.');
    inLocale('ru', () => expect(describeProblem(failure)).toBe('Файлы: не больше 10 файлов в одном сообщении.'));
    // What older versions stored: the English sentence instead of a code.
    inLocale('ru', () => expect(describeProblem({ code: 'the channel is archived' })).toBe('Сервер это не принял. Попробуйте ещё раз.'));
  });
});

describe('linked sites’ error codes', () => {
  afterEach(() => setLocale('en'));

  it('are translated in both languages, with the field they name', () => {
    const cases: [ApiError, string, string][] = [
      [
        new ApiError(400, 'bad-link-code', 'not a link invitation', null, 'code'),
        'Invitation code: this is not a valid link invitation. Copy the whole code and try again.',
        'Код приглашения: это не код приглашения для связи сайтов. Скопируйте код целиком и попробуйте снова.',
      ],
      [
        new ApiError(400, 'fingerprint-mismatch', 'x', null, 'fingerprint'),
        'Fingerprint: it does not match the fingerprint in the invitation. Do not link: ask the other administrator for a new invitation.',
        'Отпечаток: не совпадает с отпечатком в приглашении. Не связывайте сайты: попросите у другого администратора новое приглашение.',
      ],
      [
        new ApiError(502, 'site-unreachable', 'x'),
        'The other site cannot be reached at the addresses in the invitation. Check the network between the sites and try again.',
        'Другой сайт недоступен по адресам из приглашения. Проверьте сеть между сайтами и попробуйте снова.',
      ],
      [
        new ApiError(502, 'site-refused', 'x'),
        'The other site refused the link: the invitation may have been used already, or expired. Ask for a new one.',
        'Другой сайт отказал в связи: возможно, приглашение уже использовано или истекло. Попросите новое.',
      ],
      [new ApiError(409, 'link-exists', 'x'), 'This site is already linked with that one.', 'Связь с этим сайтом уже есть.'],
      [
        new ApiError(409, 'links-off', 'x'),
        'Linked sites are turned off in this server’s configuration.',
        'Связь с другими сайтами отключена в настройках этого сервера.',
      ],
      [
        new ApiError(400, 'not-shareable', 'x', null, 'channel_id'),
        'Channel: only this site’s own channels can be shared with a linked site.',
        'Канал: связанному сайту можно открыть только собственный канал этого сайта.',
      ],
      [
        new ApiError(400, 'unknown-link', 'no such link', null, 'link_id'),
        'Linked site: it no longer exists. Reload the page and try again.',
        'Связанный сайт: его больше нет. Обновите страницу и попробуйте снова.',
      ],
    ];
    for (const [err, en, ru] of cases) {
      expect(describeError(err), err.code).toBe(en);
      inLocale('ru', () => {
        expect(describeError(err), err.code).toBe(ru);
        expect(englishWords(describeError(err)), err.code).toEqual([]);
      });
    }
  });
});

describe('the fallback for a code this client does not know', () => {
  afterEach(() => setLocale('en'));
  const message = 'the frobnicator is jammed';

  it('in Russian, is a sentence for the status, never the server’s English', () => {
    const expected: Record<number, string> = {
      0: 'Сервер это не принял. Попробуйте ещё раз.',
      400: 'Запрос не принят.',
      401: 'Чтобы продолжить, войдите снова.',
      403: 'У вас нет прав на это действие.',
      404: 'Не найдено: возможно, это удалено или недоступно вам.',
      409: 'Это расходится с изменением, сделанным тем временем. Обновите страницу и попробуйте ещё раз.',
      413: 'Это слишком большой объём.',
      415: 'Такой файл или такие данные здесь использовать нельзя.',
      422: 'Это здесь использовать нельзя.',
      500: 'Сбой на сервере, ничего не сохранено. Попробуйте позже.',
      503: 'Сбой на сервере, ничего не сохранено. Попробуйте позже.',
      418: 'Что-то пошло не так (ошибка 418). Попробуйте ещё раз.',
    };
    inLocale('ru', () => {
      for (const [status, text] of Object.entries(expected)) {
        const err = new ApiError(Number(status), 'brand-new-code', message, null, 'frobnicator', { max: 3 });
        expect(describeError(err)).toBe(text);
      }
      // The old server's catch-all code.
      expect(describeError(new ApiError(400, 'invalid', 'a topic is at most 250 characters'))).toBe('Запрос не принят.');
    });
  });

  it('in English, may be the server’s sentence, else the status', () => {
    expect(describeError(new ApiError(400, 'brand-new-code', message))).toBe('The frobnicator is jammed.');
    expect(describeError(new ApiError(403, 'brand-new-code', ''))).toBe('You are not allowed to do this.');
  });
});
