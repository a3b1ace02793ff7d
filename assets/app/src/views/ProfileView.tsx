import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, type Session } from '../api';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { PageHeading } from '../components/PageHeading';
import { RecoveryCodes } from '../components/RecoveryCodes';
import { TwoFactorSetup } from '../components/TwoFactorSetup';
import { describeError } from '../errors';
import { describeUserAgent } from '../format';
import { formatDateTime, t } from '../i18n';
import { redirectIfSignedOut, useSession } from '../session';

export function ProfileView() {
  // Changing the password ends the user's other sessions: reload the list then.
  const [sessionsVersion, setSessionsVersion] = useState(0);
  return (
    <div class="page">
      <PageHeading title={t('profile.title')} />
      <DisplayNameCard />
      <PasswordCard onChanged={() => setSessionsVersion((n) => n + 1)} />
      <TwoFactorCard />
      <SessionsCard version={sessionsVersion} />
    </div>
  );
}

function DisplayNameCard() {
  const { user, setUser } = useSession();
  const [displayName, setDisplayName] = useState(user.display_name);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setResult(null);
    try {
      const updated = await api.updateMe({ display_name: displayName.trim() });
      setUser(updated);
      setDisplayName(updated.display_name);
      setResult({ ok: true, text: t('profile.displayName.saved') });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusy(false);
  }

  return (
    <section class="card" aria-labelledby="profile-account">
      <h2 id="profile-account" class="card-title">
        {t('profile.account')}
      </h2>
      <p class="card-meta">{t('profile.usernameIs', { username: user.username })}</p>
      <form class="form form-narrow" onSubmit={onSubmit} aria-busy={busy}>
        <Field
          label={t('field.displayName')}
          hint={t('field.displayName.hint')}
          name="display_name"
          autoComplete="name"
          value={displayName}
          onValue={setDisplayName}
          required
        />
        {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
        <div class="form-actions">
          <Button
            type="submit"
            busy={busy}
            disabled={displayName.trim() === '' || displayName.trim() === user.display_name}
          >
            {busy ? t('common.saving') : t('common.save')}
          </Button>
        </div>
      </form>
    </section>
  );
}

function PasswordCard({ onChanged }: { onChanged: () => void }) {
  const { user } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const repeatRef = useRef<HTMLInputElement>(null);

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    if (next !== repeat) {
      setMismatch(true);
      repeatRef.current?.focus();
      return;
    }
    setMismatch(false);
    setBusy(true);
    setResult(null);
    try {
      await api.changePassword({ current_password: current, new_password: next });
      setCurrent('');
      setNext('');
      setRepeat('');
      setResult({ ok: true, text: t('profile.password.saved') });
      onChanged();
    } catch (err) {
      // A 401 "unauthorized" means the session is gone; any other answer about
      // the current password (403 wrong-password, 401 invalid-credentials) is shown.
      if (err instanceof ApiError && err.code === 'unauthorized' && redirectIfSignedOut(err)) return;
      setResult({
        ok: false,
        text: describeError(err, {
          'wrong-password': 'profile.password.wrongCurrent',
          'invalid-credentials': 'profile.password.wrongCurrent',
          401: 'profile.password.wrongCurrent',
        }),
      });
    }
    setBusy(false);
  }

  return (
    <section class="card" aria-labelledby="profile-password">
      <h2 id="profile-password" class="card-title">
        {t('profile.password.title')}
      </h2>
      <form class="form form-narrow" onSubmit={onSubmit} aria-busy={busy}>
        {/* Lets password managers associate the new password with the account. */}
        <input type="text" name="username" autoComplete="username" value={user.username} readOnly hidden />
        <Field
          label={t('field.currentPassword')}
          name="current_password"
          type="password"
          autoComplete="current-password"
          value={current}
          onValue={setCurrent}
          required
        />
        <Field
          label={t('field.newPassword')}
          name="new_password"
          type="password"
          autoComplete="new-password"
          value={next}
          onValue={setNext}
          required
        />
        <Field
          label={t('field.repeatPassword')}
          name="new_password_repeat"
          type="password"
          autoComplete="new-password"
          value={repeat}
          onValue={(value) => {
            setRepeat(value);
            if (mismatch && value === next) setMismatch(false);
          }}
          error={mismatch ? t('validation.passwordsDiffer') : null}
          inputRef={repeatRef}
          required
        />
        {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
        <div class="form-actions">
          <Button type="submit" busy={busy}>
            {t('profile.password.submit')}
          </Button>
        </div>
      </form>
    </section>
  );
}

/** What the two-step sign-in card shows below its status. */
type TwoFactorPanel = 'setup' | 'turnOff' | 'newCodes' | null;

function TwoFactorCard() {
  const { user, setUser } = useSession();
  const [panel, setPanel] = useState<TwoFactorPanel>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const on = !!user.two_factor;

  function open(next: TwoFactorPanel) {
    setPanel(next);
    setPassword('');
    setError(null);
    setResult(null);
  }

  /** Closes the panel; the keyboard focus goes back to the card. */
  function close(message: string | null = null) {
    setPanel(null);
    setCodes(null);
    setPassword('');
    setError(null);
    setResult(message);
    setTimeout(() => headingRef.current?.focus(), 0);
  }

  async function onPasswordSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      if (panel === 'turnOff') {
        await api.disableTwoFactor({ password });
        setUser({ ...user, two_factor: false });
        close(t('twoFactor.turnedOff'));
      } else {
        const { recovery_codes } = await api.newRecoveryCodes({ password });
        setPanel(null);
        setPassword('');
        setCodes(recovery_codes);
      }
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      if (err instanceof ApiError && err.status === 404) {
        // Turned off meanwhile (e.g. reset by an administrator).
        setUser({ ...user, two_factor: false });
        close();
        setError(t('twoFactor.notEnabled'));
      } else {
        setError(describeError(err));
        setPassword('');
        passwordRef.current?.focus();
      }
    }
    setBusy(false);
  }

  let body;
  if (codes) {
    body = <RecoveryCodes codes={codes} username={user.username} onDone={() => close()} />;
  } else if (panel === 'setup') {
    body = (
      <TwoFactorSetup
        username={user.username}
        onEnabled={() => setUser({ ...user, two_factor: true })}
        onDone={() => close(t('twoFactor.turnedOn'))}
        onCancel={() => close()}
      />
    );
  } else if (panel === 'turnOff' || panel === 'newCodes') {
    body = (
      <form class="form form-narrow" onSubmit={onPasswordSubmit} aria-busy={busy}>
        <p class="muted">{t(panel === 'turnOff' ? 'twoFactor.turnOff.intro' : 'twoFactor.newCodes.intro')}</p>
        <input type="text" name="username" autoComplete="username" value={user.username} readOnly hidden />
        <Field
          label={t('field.password')}
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onValue={setPassword}
          inputRef={passwordRef}
          required
          autoFocus
        />
        {error && <Alert>{error}</Alert>}
        <div class="form-actions">
          <Button type="submit" variant={panel === 'turnOff' ? 'danger' : 'primary'} busy={busy}>
            {t(panel === 'turnOff' ? 'twoFactor.turnOff.submit' : 'twoFactor.newCodes.submit')}
          </Button>
          <Button variant="secondary" onClick={() => close()}>
            {t('common.cancel')}
          </Button>
        </div>
      </form>
    );
  } else {
    body = (
      <>
        {result && <Alert kind="success">{result}</Alert>}
        {error && <Alert>{error}</Alert>}
        <div class="form-actions">
          {on ? (
            <>
              <Button variant="secondary" onClick={() => open('newCodes')}>
                {t('twoFactor.newCodes')}
              </Button>
              <Button variant="danger" onClick={() => open('turnOff')}>
                {t('twoFactor.turnOff')}
              </Button>
            </>
          ) : (
            <Button onClick={() => open('setup')}>{t('twoFactor.setUp')}</Button>
          )}
        </div>
      </>
    );
  }

  return (
    <section class="card" aria-labelledby="profile-two-factor">
      <h2 id="profile-two-factor" ref={headingRef} class="card-title" tabIndex={-1}>
        {t('twoFactor.title')}
      </h2>
      <p class="card-meta">{t('twoFactor.intro')}</p>
      <p class="tf-status">
        {t('twoFactor.status')}{' '}
        <span class={on ? 'badge badge-ok' : 'badge'}>{on ? t('twoFactor.on') : t('twoFactor.off')}</span>
      </p>
      {body}
    </section>
  );
}

function SessionsCard({ version }: { version: number }) {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    let cancelled = false;
    setLoadError(null);
    api.sessions().then(
      (list) => {
        if (!cancelled) setSessions(list);
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        setLoadError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt, version]);

  async function revoke(session: Session) {
    setBusyId(session.id);
    setResult(null);
    try {
      await api.revokeSession(session.id);
      setSessions((list) => (list ?? []).filter((s) => s.id !== session.id));
      setResult({ ok: true, text: t('sessions.revoked') });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusyId(null);
  }

  let body;
  if (loadError) {
    body = (
      <>
        <Alert>{loadError}</Alert>
        <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
          {t('common.retry')}
        </Button>
      </>
    );
  } else if (!sessions) {
    body = <Loading />;
  } else if (sessions.length === 0) {
    body = <p class="muted">{t('sessions.empty')}</p>;
  } else {
    // Current session first, then most recently active.
    const sorted = [...sessions].sort(
      (a, b) => Number(b.current) - Number(a.current) || Date.parse(b.last_seen_at) - Date.parse(a.last_seen_at),
    );
    body = (
      <ul class="session-list">
        {sorted.map((session) => {
          const agent = describeUserAgent(session.user_agent) ?? t('sessions.unknownAgent');
          return (
            <li key={session.id} class="session-item">
              <div class="session-info">
                <p class="session-agent">
                  <span title={session.user_agent}>{agent}</span>
                  {session.current && <span class="badge badge-accent">{t('sessions.current')}</span>}
                </p>
                <p class="session-meta">
                  {session.address && <span>{t('sessions.address', { address: session.address })}</span>}
                  <span>{t('sessions.lastSeen', { date: formatDateTime(session.last_seen_at) })}</span>
                  <span>{t('sessions.created', { date: formatDateTime(session.created_at) })}</span>
                </p>
              </div>
              {!session.current && (
                <Button
                  variant="secondary"
                  size="small"
                  busy={busyId === session.id}
                  label={t('sessions.revokeLabel', { agent })}
                  onClick={() => revoke(session)}
                >
                  {t('sessions.revoke')}
                </Button>
              )}
            </li>
          );
        })}
      </ul>
    );
  }

  return (
    <section class="card" aria-labelledby="profile-sessions">
      <h2 id="profile-sessions" class="card-title">
        {t('sessions.title')}
      </h2>
      <p class="card-meta">{t('sessions.intro')}</p>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {body}
    </section>
  );
}
