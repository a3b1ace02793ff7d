import { beforeAll, describe, expect, it } from 'vitest';
import { ApiError, NetworkError } from './api';
import { describeError, isUnauthorized } from './errors';
import { setLocale } from './i18n';

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

  it("falls back to the server's sentence, then to the status", () => {
    expect(describeError(new ApiError(400, 'invalid', 'The password is too short.'))).toBe(
      'The password is too short.',
    );
    expect(describeError(new ApiError(400, 'invalid', 'password must have at least 8 characters'))).toBe(
      'Password must have at least 8 characters.',
    );
    expect(describeError(new ApiError(502, 'http-502', ''))).toBe(
      'Something went wrong (error 502). Please try again.',
    );
    expect(describeError(new Error('boom'))).toBe('Something went wrong. Please try again.');
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
