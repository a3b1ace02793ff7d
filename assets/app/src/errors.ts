// Turns any error thrown by the API client into one translated sentence.

import { ApiError, NetworkError } from './api';
import { t, type MessageKey } from './i18n';

/**
 * Per-view messages, keyed by the error body's `code` (checked first) or by
 * HTTP status, e.g. `{ 'wrong-password': 'profile.password.wrongCurrent', 401: … }`.
 */
export type ErrorMessages = Partial<Record<string | number, MessageKey>>;

/**
 * Error codes that mean the same in every view. A view's own message for the code comes
 * first; these come before a view's message for the bare status (a 401 `wrong-code` at
 * sign-in is not "wrong user name or password").
 */
export const COMMON_ERRORS: ErrorMessages = {
  'wrong-password': 'error.wrongPassword',
  'wrong-code': 'error.wrongCode',
  'second-factor-required': 'error.secondFactorRequired',
  'two-factor-required': 'error.twoFactorRequired',
  'two-factor-enrolment-required': 'error.enrolmentRequired',
  'managed-by-directory': 'error.managedByDirectory',
  'bad-photo': 'error.badPhoto',
  'payload-too-large': 'error.payloadTooLarge',
  'account-disabled': 'error.accountDisabled',
  'not-editable': 'error.notEditable',
  'not-viewable': 'error.notViewable',
};

/** Server sentences are lower-case fragments ("sign in to continue"): make them read as sentences. */
function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const first = trimmed.charAt(0).toLocaleUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

export function describeError(err: unknown, messages: ErrorMessages = {}): string {
  if (err instanceof NetworkError) return t('error.network');
  if (err instanceof ApiError) {
    const key = messages[err.code] ?? COMMON_ERRORS[err.code] ?? messages[err.status];
    if (key) return t(key);
    if (err.status === 429) {
      return err.retryAfter != null
        ? t('error.tooManyAttempts', { n: err.retryAfter })
        : t('error.tooManyAttemptsLater');
    }
    // The server's sentence is the most precise explanation we have
    // (validation errors such as a too short password).
    if (err.message.trim()) return sentence(err.message);
    return t('error.unexpected', { status: err.status });
  }
  return t('error.generic');
}

/** True when the error means "not signed in" (no, expired or revoked session). */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}
