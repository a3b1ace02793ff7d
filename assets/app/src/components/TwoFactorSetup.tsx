import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, type TwoFactorEnrolment } from '../api';
import { describeError } from '../errors';
import { t } from '../i18n';
import { redirectIfSignedOut } from '../session';
import { groupSecret, normalizeCode, qrImageSrc } from '../twoFactor';
import { Alert } from './Alert';
import { Button } from './Button';
import { CopyField } from './CopyField';
import { Field } from './Field';
import { RecoveryCodes } from './RecoveryCodes';

interface TwoFactorSetupProps {
  username: string;
  /** Two-step sign-in is on now (the recovery codes are still on screen). */
  onEnabled?: () => void;
  /** The user has saved the recovery codes. */
  onDone: () => void;
  /** Offers a Cancel button before the codes are shown. */
  onCancel?: () => void;
}

type Step =
  | { name: 'password' }
  | { name: 'scan'; enrolment: TwoFactorEnrolment }
  | { name: 'codes'; codes: string[] };

/**
 * Enrolling an authenticator app: the password again, then the QR code (or the key to type)
 * and the first code from the app, then the recovery codes, shown once.
 */
export function TwoFactorSetup({ username, onEnabled, onDone, onCancel }: TwoFactorSetupProps) {
  const [step, setStep] = useState<Step>({ name: 'password' });
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);
  const [busy, setBusy] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);
  const codeRef = useRef<HTMLInputElement>(null);

  // The code field takes the focus when it appears, without scrolling the QR code away.
  useEffect(() => {
    if (step.name === 'scan') codeRef.current?.focus({ preventScroll: true });
  }, [step.name]);

  async function begin(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const enrolment = await api.beginTwoFactor({ password });
      setPassword('');
      setCode('');
      setCodeError(null);
      setExpired(false);
      setStep({ name: 'scan', enrolment });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setError(describeError(err, { 'already-enabled': 'twoFactor.alreadyEnabled' }));
      setPassword('');
      passwordRef.current?.focus();
    }
    setBusy(false);
  }

  async function confirm(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    const normalized = normalizeCode(code, 'app');
    if (!normalized) {
      setCodeError(t('twoFactor.appCodeFormat'));
      codeRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    setCodeError(null);
    try {
      const { recovery_codes } = await api.confirmTwoFactor({ code: normalized });
      setCode('');
      setStep({ name: 'codes', codes: recovery_codes });
      onEnabled?.();
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      if (err instanceof ApiError && err.status === 404) {
        // The enrolment waited too long for its first code (or was replaced elsewhere).
        setExpired(true);
        setError(t('twoFactor.setup.expired'));
      } else {
        setError(describeError(err, { 'wrong-code': 'twoFactor.setup.wrongCode' }));
        setCode('');
        codeRef.current?.focus();
      }
    }
    setBusy(false);
  }

  function restart() {
    setStep({ name: 'password' });
    setError(null);
    setExpired(false);
    setCode('');
  }

  if (step.name === 'codes') {
    return <RecoveryCodes codes={step.codes} username={username} onDone={onDone} />;
  }

  const cancel = onCancel && (
    <Button variant="secondary" onClick={onCancel}>
      {t('common.cancel')}
    </Button>
  );

  if (step.name === 'password') {
    return (
      <form class="form form-narrow" onSubmit={begin} aria-busy={busy}>
        <p class="muted">{t('twoFactor.setup.intro')}</p>
        {/* Lets password managers fill in the password of this account. */}
        <input type="text" name="username" autoComplete="username" value={username} readOnly hidden />
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
          <Button type="submit" busy={busy}>
            {t('twoFactor.setup.continue')}
          </Button>
          {cancel}
        </div>
      </form>
    );
  }

  const { enrolment } = step;
  return (
    <form class="form tf-setup" onSubmit={confirm} aria-busy={busy}>
      <div class="tf-enrol">
        <img
          class="tf-qr"
          src={qrImageSrc(enrolment.qr_svg)}
          alt={t('twoFactor.setup.qrAlt')}
          width={200}
          height={200}
        />
        <div class="tf-enrol-text">
          <p>{t('twoFactor.setup.scan')}</p>
          <p class="muted">{t('twoFactor.setup.manual')}</p>
          <CopyField
            label={t('twoFactor.setup.key')}
            value={groupSecret(enrolment.secret)}
            copyValue={enrolment.secret}
          />
          <p>
            <a href={enrolment.uri}>{t('twoFactor.setup.openApp')}</a>
          </p>
        </div>
      </div>
      <p>{t('twoFactor.setup.enterCode')}</p>
      <div class="form-narrow">
        <Field
          label={t('field.appCode')}
          name="code"
          autoComplete="one-time-code"
          inputMode="numeric"
          value={code}
          onValue={(value) => {
            setCode(value);
            if (codeError) setCodeError(null);
          }}
          error={codeError}
          inputRef={codeRef}
          required
          disabled={expired}
        />
      </div>
      {error && <Alert>{error}</Alert>}
      <div class="form-actions">
        {expired ? (
          <Button onClick={restart}>{t('twoFactor.setup.restart')}</Button>
        ) : (
          <Button type="submit" busy={busy}>
            {t('twoFactor.setup.confirm')}
          </Button>
        )}
        {cancel}
      </div>
    </form>
  );
}
