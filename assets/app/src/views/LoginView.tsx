import { useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { Alert } from '../components/Alert';
import { AuthLayout } from '../components/AuthLayout';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { describeError } from '../errors';
import { t } from '../i18n';
import { navigate } from '../router';

export function LoginView({ next }: { next: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      // The server sets the HttpOnly session cookie; the token is not needed here.
      await api.login({ username: username.trim(), password });
      navigate(next ?? '/', { replace: true });
    } catch (err) {
      setError(describeError(err, { 401: 'login.wrongCredentials' }));
      setBusy(false);
      setPassword('');
      passwordRef.current?.focus();
    }
  }

  return (
    <AuthLayout title={t('login.title')}>
      <form class="form" onSubmit={onSubmit} aria-busy={busy}>
        {error && <Alert>{error}</Alert>}
        <Field
          label={t('field.username')}
          name="username"
          autoComplete="username"
          value={username}
          onValue={setUsername}
          required
          autoFocus
        />
        <Field
          label={t('field.password')}
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onValue={setPassword}
          inputRef={passwordRef}
          required
        />
        <Button type="submit" busy={busy} block>
          {busy ? t('login.submitting') : t('login.submit')}
        </Button>
      </form>
      <p class="auth-footnote">{t('login.noAccount')}</p>
    </AuthLayout>
  );
}
