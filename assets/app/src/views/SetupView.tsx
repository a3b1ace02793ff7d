import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, adminApi, api, chatApi, inviteLink, qrSrc, type CreatedInvite, type ServerInfo } from '../api';
import { onboardingAddress } from '../admin';
import { Alert } from '../components/Alert';
import { AuthLayout } from '../components/AuthLayout';
import { Button } from '../components/Button';
import { CopyField } from '../components/CopyField';
import { Field } from '../components/Field';
import { Link } from '../components/Link';
import { Loading } from '../components/Loading';
import { describeError } from '../errors';
import { formatDateTime, t } from '../i18n';
import { channelPath, navigate } from '../router';

type Step = 'checking' | 'form' | 'used' | 'invite' | { error: string };

/** How long the first invitation link works, in hours. */
const FIRST_INVITE_HOURS = 72;

function isGone(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 410);
}

/**
 * First run (`/setup?token=…`): checks the link, creates the first administrator, then helps
 * invite people (an invitation link and the onboarding address for phones, each with a QR code)
 * before opening #general.
 */
export function SetupView({ token }: { token: string }) {
  const [step, setStep] = useState<Step>(token ? 'checking' : 'form');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    setStep('checking');
    adminApi.setupStatus(token).then(
      (status) => {
        if (!cancelled) setStep(status.valid ? 'form' : 'used');
      },
      (err) => {
        if (cancelled) return;
        setStep(isGone(err) ? 'used' : { error: describeError(err) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [token, attempt]);

  if (!token) {
    return (
      <AuthLayout title={t('setup.title')}>
        <Alert>{t('setup.missingToken')}</Alert>
      </AuthLayout>
    );
  }
  if (step === 'checking') {
    return (
      <AuthLayout title={t('setup.title')}>
        <Loading label={t('setup.checking')} />
      </AuthLayout>
    );
  }
  if (step === 'used') return <SetupUsed />;
  if (step === 'invite') return <InviteStep />;
  if (typeof step === 'object') {
    return (
      <AuthLayout title={t('setup.title')}>
        <Alert>{step.error}</Alert>
        <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
          {t('common.retry')}
        </Button>
      </AuthLayout>
    );
  }
  return <SetupForm token={token} onUsed={() => setStep('used')} onDone={() => setStep('invite')} />;
}

function SetupUsed() {
  return (
    <AuthLayout title={t('setup.title')}>
      <Alert>{t('setup.used')}</Alert>
      <p class="auth-footnote">{t('setup.usedHint')}</p>
      <p class="auth-footnote">
        <Link href="/login">{t('setup.goToLogin')}</Link>
      </p>
    </AuthLayout>
  );
}

function SetupForm({ token, onUsed, onDone }: { token: string; onUsed: () => void; onDone: () => void }) {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const repeatRef = useRef<HTMLInputElement>(null);

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
      onDone();
    } catch (err) {
      if (isGone(err)) {
        onUsed();
        return;
      }
      setError(describeError(err));
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

/** After the first administrator: an invitation link and the address for phones, with QR codes. */
function InviteStep() {
  const [invite, setInvite] = useState<CreatedInvite | null>(null);
  const [server, setServer] = useState<ServerInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [leaving, setLeaving] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    api.createInvite({ expires_in_hours: FIRST_INVITE_HOURS }).then(
      (created) => {
        if (!cancelled) setInvite(created);
      },
      (err) => {
        if (!cancelled) setError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  useEffect(() => {
    chatApi.server().then(setServer, () => {});
  }, []);

  async function proceed() {
    setLeaving(true);
    // #general, which the server made with the first administrator; else the app's start.
    let target = '/';
    try {
      const general = (await chatApi.channels()).find((c) => c.name === 'general' && !c.archived);
      if (general) target = channelPath(general.id);
    } catch {
      // the app's start opens a channel too
    }
    navigate(target, { replace: true });
  }

  const link = invite ? inviteLink(invite, location.origin) : null;
  const phones = onboardingAddress(location.hostname, server?.http_port);
  return (
    <AuthLayout title={t('setup.invite.title')} intro={t('setup.invite.intro')} wide>
      <div class="setup-invite">
        {error && (
          <>
            <Alert>{error}</Alert>
            <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
              {t('common.retry')}
            </Button>
          </>
        )}
        {!invite && !error && <Loading label={t('setup.invite.creating')} />}
        {invite && link && (
          <div class="qr-block">
            <img class="qr-image" src={qrSrc(link)} alt={t('setup.invite.qrAlt')} width={160} height={160} />
            <div class="qr-text">
              <CopyField label={t('admin.invite.link')} value={link} />
              <p class="card-meta">
                {t('admin.invite.expires', { date: formatDateTime(invite.expires_at) })} {t('setup.invite.more')}
              </p>
            </div>
          </div>
        )}
        {phones && (
          <section class="qr-block" aria-labelledby="setup-phones">
            <img class="qr-image" src={qrSrc(phones)} alt={t('setup.phones.qrAlt')} width={160} height={160} />
            <div class="qr-text">
              <h2 id="setup-phones" class="card-title">
                {t('setup.phones.title')}
              </h2>
              <p class="card-meta">{t('setup.phones.intro')}</p>
              <CopyField label={t('setup.phones.address')} value={phones} />
            </div>
          </section>
        )}
        <Button block busy={leaving} onClick={() => void proceed()}>
          {t('setup.continue')}
        </Button>
      </div>
    </AuthLayout>
  );
}
