import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, endPendingLogout, logoutPending } from '../api';
import { Alert } from '../components/Alert';
import { AuthLayout } from '../components/AuthLayout';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { describeError } from '../errors';
import { t } from '../i18n';
import { navigate } from '../router';
import { normalizeCode, type CodeKind } from '../twoFactor';

export function LoginView({ next }: { next: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Set once the password was right and the account asks for a second factor. The user name
  // and password stay in this component's state only, to be sent again with the code.
  const [step, setStep] = useState<'password' | 'code'>('password');
  const [codeKind, setCodeKind] = useState<CodeKind>('app');
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const codeRef = useRef<HTMLInputElement>(null);
  const [pending, setPending] = useState(logoutPending);

  // A logout owed to the server (signed out while it could not be reached) goes as soon as it
  // answers: now, when the browser is back online, and every half minute meanwhile.
  useEffect(() => {
    if (!pending) return;
    let stopped = false;
    const attempt = () =>
      void endPendingLogout().then((ended) => {
        if (ended && !stopped) setPending(false);
      });
    attempt();
    const timer = setInterval(attempt, 30_000);
    window.addEventListener('online', attempt);
    return () => {
      stopped = true;
      clearInterval(timer);
      window.removeEventListener('online', attempt);
    };
  }, [pending]);

  function backToPassword(message: string | null = null) {
    setStep('password');
    setPassword('');
    setCode('');
    setCodeError(null);
    setCodeKind('app');
    setError(message);
  }

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    let second: string | undefined;
    if (step === 'code') {
      const normalized = normalizeCode(code, codeKind);
      if (!normalized) {
        setCodeError(t(codeKind === 'app' ? 'twoFactor.appCodeFormat' : 'twoFactor.recoveryCodeFormat'));
        codeRef.current?.focus();
        return;
      }
      second = normalized;
    }
    setBusy(true);
    setError(null);
    setCodeError(null);
    try {
      // The server sets the HttpOnly session cookie; the token is not needed here.
      await api.login({ username: username.trim(), password, ...(second ? { code: second } : {}) });
      setPending(false);
      navigate(next ?? '/', { replace: true });
    } catch (err) {
      setBusy(false);
      const errCode = err instanceof ApiError ? err.code : null;
      if (errCode === 'second-factor-required') {
        // The code field mounts with autoFocus.
        setStep('code');
        setCode('');
        return;
      }
      if (step === 'code' && errCode === 'invalid-credentials') {
        // The password changed meanwhile: start over.
        backToPassword(describeError(err, { 401: 'login.wrongCredentials' }));
        return;
      }
      setError(describeError(err, { 401: 'login.wrongCredentials' }));
      if (step === 'code') {
        setCode('');
        codeRef.current?.focus();
      } else {
        setPassword('');
        passwordRef.current?.focus();
      }
    }
  }

  function switchCodeKind() {
    setCodeKind(codeKind === 'app' ? 'recovery' : 'app');
    setCode('');
    setCodeError(null);
    setError(null);
    codeRef.current?.focus();
  }

  if (step === 'code') {
    const app = codeKind === 'app';
    return (
      <AuthLayout
        title={t('login.code.title')}
        intro={app ? t('login.code.intro') : t('login.code.introRecovery')}
      >
        <form key="code" class="form" onSubmit={onSubmit} aria-busy={busy}>
          {error && <Alert>{error}</Alert>}
          <Field
            label={app ? t('field.appCode') : t('field.recoveryCode')}
            hint={app ? undefined : t('field.recoveryCode.hint')}
            name="code"
            autoComplete={app ? 'one-time-code' : 'off'}
            inputMode={app ? 'numeric' : 'text'}
            value={code}
            onValue={(value) => {
              setCode(value);
              if (codeError) setCodeError(null);
            }}
            error={codeError}
            inputRef={codeRef}
            maxLength={32}
            required
            autoFocus
          />
          <Button type="submit" busy={busy} block>
            {busy ? t('login.submitting') : t('login.submit')}
          </Button>
        </form>
        <div class="auth-links">
          <button type="button" class="link-button" onClick={switchCodeKind}>
            {app ? t('login.code.useRecovery') : t('login.code.useApp')}
          </button>
          <button type="button" class="link-button" onClick={() => backToPassword()}>
            {t('login.code.back')}
          </button>
        </div>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title={t('login.title')}>
      {pending && <Alert kind="info">{t('login.logoutPending')}</Alert>}
      <form key="password" class="form" onSubmit={onSubmit} aria-busy={busy}>
        {error && <Alert>{error}</Alert>}
        <Field
          label={t('field.username')}
          name="username"
          autoComplete="username"
          value={username}
          onValue={setUsername}
          required
          autoFocus={username === ''}
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
          autoFocus={username !== ''}
        />
        <Button type="submit" busy={busy} block>
          {busy ? t('login.submitting') : t('login.submit')}
        </Button>
      </form>
      <p class="auth-footnote">{t('login.noAccount')}</p>
    </AuthLayout>
  );
}
