import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, type ProfileField, type Session, type User } from '../api';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Field, TextAreaField } from '../components/Field';
import { Loading } from '../components/Loading';
import { PageHeading } from '../components/PageHeading';
import { RecoveryCodes } from '../components/RecoveryCodes';
import { TwoFactorSetup } from '../components/TwoFactorSetup';
import { describeError } from '../errors';
import { describeUserAgent } from '../format';
import { formatDateTime, t, type MessageKey } from '../i18n';
import { isManaged, MAX_PHOTO_BYTES, PROFILE_LIMITS, profileChanges, profileForm, profileProblems, type ProfileForm } from '../profile';
import { redirectIfSignedOut, useSession } from '../session';
import { activeStatus, formatUntil, statusEmoji } from '../status';
import { Avatar } from './chat/Avatar';
import { openDialog } from './chat/ui';
import { NotificationsCard } from './NotificationsCard';

export function ProfileView() {
  // Changing the password ends the user's other sessions: reload the list then.
  const [sessionsVersion, setSessionsVersion] = useState(0);
  return (
    <div class="page">
      <PageHeading title={t('profile.title')} />
      <AccountCard />
      <StatusCard />
      <PhotoCard />
      <NotificationsCard />
      <PasswordCard onChanged={() => setSessionsVersion((n) => n + 1)} />
      <TwoFactorCard />
      <SessionsCard version={sessionsVersion} />
    </div>
  );
}

/** The hint under a field the organisation's directory sets. */
const managedHint = () => t('profile.managed');

function AccountCard() {
  const { user, setUser } = useSession();
  const [form, setForm] = useState<ProfileForm>(() => profileForm(user));
  const [problems, setProblems] = useState<ReturnType<typeof profileProblems>>({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const managed = (field: ProfileField) => isManaged(user, field);
  const changes = profileChanges(user, form);
  const nameEmpty = !managed('display_name') && form.display_name.trim() === '';

  const set = (field: keyof ProfileForm) => (value: string) => {
    setForm((f) => ({ ...f, [field]: value }));
    if (problems[field]) setProblems((p) => ({ ...p, [field]: undefined }));
  };

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy || nameEmpty || Object.keys(changes).length === 0) return;
    const found = profileProblems(form);
    setProblems(found);
    if (Object.values(found).some(Boolean)) return;
    setBusy(true);
    setResult(null);
    try {
      const updated = await api.updateMe(changes);
      setUser(updated);
      setForm(profileForm(updated));
      setResult({ ok: true, text: t('profile.saved') });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusy(false);
  }

  const problem = (field: keyof ProfileForm) => (problems[field] ? t(problems[field]!) : null);
  return (
    <section class="card" aria-labelledby="profile-account">
      <h2 id="profile-account" class="card-title">
        {t('profile.account')}
      </h2>
      <p class="card-meta">{t('profile.usernameIs', { username: user.username })}</p>
      <form class="form form-narrow" onSubmit={onSubmit} aria-busy={busy}>
        <Field
          label={t('field.displayName')}
          hint={managed('display_name') ? managedHint() : t('field.displayName.hint')}
          name="display_name"
          autoComplete="name"
          value={form.display_name}
          onValue={set('display_name')}
          readOnly={managed('display_name')}
          required={!managed('display_name')}
        />
        <Field
          label={t('field.jobTitle')}
          hint={managed('title') ? managedHint() : undefined}
          name="title"
          autoComplete="organization-title"
          value={form.title}
          onValue={set('title')}
          readOnly={managed('title')}
          maxLength={PROFILE_LIMITS.title}
          error={problem('title')}
        />
        <Field
          label={t('field.department')}
          hint={managed('department') ? managedHint() : undefined}
          name="department"
          value={form.department}
          onValue={set('department')}
          readOnly={managed('department')}
          maxLength={PROFILE_LIMITS.department}
          error={problem('department')}
        />
        <Field
          label={t('field.phone')}
          hint={managed('phone') ? managedHint() : t('field.phone.hint')}
          name="phone"
          type="tel"
          autoComplete="tel"
          value={form.phone}
          onValue={set('phone')}
          readOnly={managed('phone')}
          maxLength={PROFILE_LIMITS.phone}
          error={problem('phone')}
        />
        <TextAreaField
          label={t('field.about')}
          hint={t('field.about.hint')}
          name="about"
          value={form.about}
          onValue={set('about')}
          maxLength={PROFILE_LIMITS.about}
          rows={4}
          error={problem('about')}
        />
        {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
        <div class="form-actions">
          <Button type="submit" busy={busy} disabled={nameEmpty || Object.keys(changes).length === 0}>
            {busy ? t('common.saving') : t('common.save')}
          </Button>
        </div>
      </form>
    </section>
  );
}

/** The custom status: what it is and until when, "Set a status" (the dialog), "Clear status". */
function StatusCard() {
  const { user, setUser } = useSession();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const status = activeStatus(user.status);

  async function clear() {
    setBusy(true);
    setResult(null);
    try {
      setUser(await api.clearStatus());
      setResult({ ok: true, text: t('status.cleared') });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusy(false);
  }

  return (
    <section class="card" aria-labelledby="profile-status">
      <h2 id="profile-status" class="card-title">
        {t('status.cardTitle')}
      </h2>
      <p class="card-meta">{t('status.cardIntro')}</p>
      {status ? (
        <p class="status-current">
          <span class="status-current-emoji">{statusEmoji(status)}</span>
          {status.text && <span class="status-current-text">{status.text}</span>}
          {status.expires_at !== null && <span class="muted">{formatUntil(status.expires_at)}</span>}
        </p>
      ) : (
        <p class="muted status-current">{t('status.none')}</p>
      )}
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      <div class="form-actions">
        <Button
          onClick={() => {
            setResult(null);
            openDialog('status');
          }}
        >
          {status ? t('status.edit') : t('status.set')}
        </Button>
        {status && (
          <Button variant="secondary" busy={busy} onClick={() => void clear()}>
            {t('status.clearNow')}
          </Button>
        )}
      </div>
    </section>
  );
}

/** The profile photo: the large one (or initials), upload a new one, remove it. */
function PhotoCard() {
  const { user, setUser } = useSession();
  const [busy, setBusy] = useState<'upload' | 'remove' | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const managed = isManaged(user, 'photo');
  const photoMessages = { 'payload-too-large': 'profile.photo.tooLarge' } as const;

  async function run(kind: 'upload' | 'remove', action: () => Promise<User>, done: MessageKey) {
    setBusy(kind);
    setResult(null);
    try {
      setUser(await action());
      setResult({ ok: true, text: t(done) });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err, photoMessages) });
    }
    setBusy(null);
  }

  function onFile(event: Event) {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    // The same file may be chosen again after an error.
    input.value = '';
    if (!file) return;
    if (file.type && !file.type.startsWith('image/')) {
      setResult({ ok: false, text: t('profile.photo.notImage') });
      return;
    }
    if (file.size > MAX_PHOTO_BYTES) {
      setResult({ ok: false, text: t('profile.photo.tooLarge') });
      return;
    }
    void run('upload', () => api.setMyPhoto(file), 'profile.photo.saved');
  }

  function remove() {
    if (!window.confirm(t('profile.photo.confirmRemove'))) return;
    void run('remove', () => api.removeMyPhoto(), 'profile.photo.removed');
  }

  const name = user.display_name || user.username;
  return (
    <section class="card" aria-labelledby="profile-photo">
      <h2 id="profile-photo" class="card-title">
        {t('profile.photo.title')}
      </h2>
      <p class="card-meta">{managed ? t('profile.managed') : t('profile.photo.intro')}</p>
      <div class="photo-row">
        <Avatar id={user.id} name={name} size="xl" photo={user.photo_url} />
        {!user.photo_url && <p class="muted">{t('profile.photo.none')}</p>}
      </div>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {!managed && (
        <div class="form-actions">
          <input
            ref={fileRef}
            id="profile-photo-file"
            class="visually-hidden"
            type="file"
            accept="image/*"
            tabIndex={-1}
            aria-hidden="true"
            onChange={onFile}
          />
          <Button busy={busy === 'upload'} disabled={busy !== null} onClick={() => fileRef.current?.click()}>
            {busy === 'upload' ? t('profile.photo.uploading') : t('profile.photo.upload')}
          </Button>
          {user.photo_url && (
            <Button variant="secondary" busy={busy === 'remove'} disabled={busy !== null} onClick={remove}>
              {busy === 'remove' ? t('profile.photo.removing') : t('profile.photo.remove')}
            </Button>
          )}
        </div>
      )}
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
