import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { Alert } from '../components/Alert';
import { AuthLayout } from '../components/AuthLayout';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { Link } from '../components/Link';
import { Loading } from '../components/Loading';
import { describeError } from '../errors';
import { formatDateTime, t } from '../i18n';
import { navigate } from '../router';

type InviteState =
  | { status: 'checking' }
  | { status: 'valid'; expiresAt: string }
  | { status: 'invalid' }
  | { status: 'error'; message: string };

function isGone(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 410);
}

/** Accepting an invitation link (`/invite/TOKEN`): creates an account and signs in. */
export function InviteView({ token }: { token: string }) {
  const [invite, setInvite] = useState<InviteState>({ status: 'checking' });
  const [attempt, setAttempt] = useState(0);
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    setInvite({ status: 'checking' });
    api.getInvite(token).then(
      (info) => {
        if (cancelled) return;
        setInvite(info.valid ? { status: 'valid', expiresAt: info.expires_at } : { status: 'invalid' });
      },
      (err) => {
        if (cancelled) return;
        setInvite(isGone(err) ? { status: 'invalid' } : { status: 'error', message: describeError(err) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [token, attempt]);

  if (invite.status === 'checking') {
    return (
      <AuthLayout title={t('invite.title')}>
        <Loading label={t('invite.checking')} />
      </AuthLayout>
    );
  }

  if (invite.status === 'invalid') {
    return (
      <AuthLayout title={t('invite.title')}>
        <Alert>{t('invite.invalid')}</Alert>
        <p class="auth-footnote">{t('invite.invalidHint')}</p>
        <p class="auth-footnote">
          <Link href="/login">{t('invite.goToLogin')}</Link>
        </p>
      </AuthLayout>
    );
  }

  if (invite.status === 'error') {
    return (
      <AuthLayout title={t('invite.title')}>
        <Alert>{invite.message}</Alert>
        <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
          {t('common.retry')}
        </Button>
      </AuthLayout>
    );
  }

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await api.acceptInvite({
        token,
        username: username.trim(),
        display_name: displayName.trim(),
        password,
      });
      navigate('/', { replace: true });
    } catch (err) {
      if (isGone(err)) {
        setInvite({ status: 'invalid' });
        return;
      }
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <AuthLayout title={t('invite.title')} intro={t('invite.intro')}>
      <p class="auth-meta">{t('invite.expires', { date: formatDateTime(invite.expiresAt) })}</p>
      <form class="form" onSubmit={onSubmit} aria-busy={busy}>
        {error && <Alert>{error}</Alert>}
        <Field
          label={t('field.username')}
          hint={t('field.username.hint')}
          name="username"
          autoComplete="username"
          value={username}
          onValue={setUsername}
          required
          autoFocus
        />
        <Field
          label={t('field.displayName')}
          hint={t('field.displayName.hint')}
          name="display_name"
          autoComplete="name"
          value={displayName}
          onValue={setDisplayName}
          required
        />
        <Field
          label={t('field.password')}
          name="password"
          type="password"
          autoComplete="new-password"
          value={password}
          onValue={setPassword}
          required
        />
        <Button type="submit" busy={busy} block>
          {busy ? t('invite.submitting') : t('invite.submit')}
        </Button>
      </form>
    </AuthLayout>
  );
}
