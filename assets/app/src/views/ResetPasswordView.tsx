import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, adminApi, type ResetStatus } from '../api';
import { Alert } from '../components/Alert';
import { AuthLayout } from '../components/AuthLayout';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { Link } from '../components/Link';
import { Loading } from '../components/Loading';
import { describeError } from '../errors';
import { t } from '../i18n';

type State =
  | { status: 'checking' }
  | { status: 'valid'; who: ResetStatus }
  | { status: 'invalid' }
  | { status: 'done' }
  | { status: 'error'; message: string };

/** A used or expired link (or one that never existed). */
function isGone(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 410);
}

const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;

/**
 * Choosing a new password with a one-time link from an administrator (`/reset/TOKEN`). Public:
 * the person is not signed in. Says so when the link was used or has expired.
 */
export function ResetPasswordView({ token }: { token: string }) {
  const [state, setState] = useState<State>({ status: 'checking' });
  const [attempt, setAttempt] = useState(0);
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [problem, setProblem] = useState<'length' | 'mismatch' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const repeatRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    let cancelled = false;
    setState({ status: 'checking' });
    adminApi.resetStatus(token).then(
      (who) => {
        if (!cancelled) setState({ status: 'valid', who });
      },
      (err) => {
        if (cancelled) return;
        setState(isGone(err) ? { status: 'invalid' } : { status: 'error', message: describeError(err) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [token, attempt]);

  if (state.status === 'checking') {
    return (
      <AuthLayout title={t('reset.title')}>
        <Loading label={t('reset.checking')} />
      </AuthLayout>
    );
  }

  if (state.status === 'invalid') {
    return (
      <AuthLayout title={t('reset.title')}>
        <Alert>{t('reset.invalid')}</Alert>
        <p class="auth-footnote">{t('reset.invalidHint')}</p>
        <p class="auth-footnote">
          <Link href="/login">{t('setup.goToLogin')}</Link>
        </p>
      </AuthLayout>
    );
  }

  if (state.status === 'error') {
    return (
      <AuthLayout title={t('reset.title')}>
        <Alert>{state.message}</Alert>
        <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
          {t('common.retry')}
        </Button>
      </AuthLayout>
    );
  }

  if (state.status === 'done') {
    return (
      <AuthLayout title={t('reset.doneTitle')}>
        <Alert kind="success">{t('reset.done')}</Alert>
        <p class="auth-footnote">
          <Link href="/login" class="btn btn-primary btn-block">
            {t('reset.signIn')}
          </Link>
        </p>
      </AuthLayout>
    );
  }

  const { who } = state;

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    const length = [...password].length;
    if (length < MIN_PASSWORD || length > MAX_PASSWORD) {
      setProblem('length');
      passwordRef.current?.focus();
      return;
    }
    if (password !== repeat) {
      setProblem('mismatch');
      repeatRef.current?.focus();
      return;
    }
    setProblem(null);
    setBusy(true);
    setError(null);
    try {
      await adminApi.useReset(token, password);
      setPassword('');
      setRepeat('');
      setState({ status: 'done' });
    } catch (err) {
      setBusy(false);
      if (isGone(err)) {
        setState({ status: 'invalid' });
        return;
      }
      setError(describeError(err, { invalid: 'reset.tooShort' }));
    }
  }

  return (
    <AuthLayout title={t('reset.title')} intro={t('reset.for', { name: who.display_name || who.username, username: who.username })}>
      <form class="form" onSubmit={onSubmit} aria-busy={busy} noValidate>
        {error && <Alert>{error}</Alert>}
        {/* For password managers: the account this password belongs to. */}
        <input type="text" class="visually-hidden" name="username" autoComplete="username" value={who.username} readOnly tabIndex={-1} aria-hidden="true" />
        <Field
          label={t('field.newPassword')}
          hint={t('reset.passwordHint')}
          name="password"
          type="password"
          autoComplete="new-password"
          value={password}
          onValue={(value) => {
            setPassword(value);
            if (problem === 'length') setProblem(null);
          }}
          error={problem === 'length' ? t('reset.tooShort') : null}
          inputRef={passwordRef}
          required
          autoFocus
        />
        <Field
          label={t('field.repeatPassword')}
          name="password_repeat"
          type="password"
          autoComplete="new-password"
          value={repeat}
          onValue={(value) => {
            setRepeat(value);
            if (problem === 'mismatch' && value === password) setProblem(null);
          }}
          error={problem === 'mismatch' ? t('validation.passwordsDiffer') : null}
          inputRef={repeatRef}
          required
        />
        <Button type="submit" busy={busy} block>
          {busy ? t('reset.submitting') : t('reset.submit')}
        </Button>
      </form>
    </AuthLayout>
  );
}
