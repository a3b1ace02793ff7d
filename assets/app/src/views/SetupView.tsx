import { useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { Alert } from '../components/Alert';
import { AuthLayout } from '../components/AuthLayout';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { describeError } from '../errors';
import { t } from '../i18n';
import { navigate } from '../router';

/** First-run form that creates the first administrator (`/setup?token=…`). */
export function SetupView({ token }: { token: string }) {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const repeatRef = useRef<HTMLInputElement>(null);

  if (!token) {
    return (
      <AuthLayout title={t('setup.title')}>
        <Alert>{t('setup.missingToken')}</Alert>
      </AuthLayout>
    );
  }

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    if (password !== repeat) {
      setMismatch(true);
      repeatRef.current?.focus();
      return;
    }
    setMismatch(false);
    setBusy(true);
    setError(null);
    try {
      await api.setup({
        token,
        username: username.trim(),
        display_name: displayName.trim(),
        password,
      });
      navigate('/', { replace: true });
    } catch (err) {
      setError(describeError(err, { 404: 'setup.invalidToken', 410: 'setup.invalidToken' }));
      setBusy(false);
    }
  }

  return (
    <AuthLayout title={t('setup.title')} intro={t('setup.intro')}>
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
        <Field
          label={t('field.repeatPassword')}
          name="password_repeat"
          type="password"
          autoComplete="new-password"
          value={repeat}
          onValue={(value) => {
            setRepeat(value);
            if (mismatch && value === password) setMismatch(false);
          }}
          error={mismatch ? t('validation.passwordsDiffer') : null}
          inputRef={repeatRef}
          required
        />
        <Button type="submit" busy={busy} block>
          {busy ? t('setup.submitting') : t('setup.submit')}
        </Button>
      </form>
    </AuthLayout>
  );
}
