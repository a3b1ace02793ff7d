import { useState } from 'preact/hooks';
import type { User } from '../api';
import { AuthLayout } from '../components/AuthLayout';
import { Button } from '../components/Button';
import { TwoFactorSetup } from '../components/TwoFactorSetup';
import { t } from '../i18n';
import { navigate } from '../router';
import { signOutHere } from '../session';

/**
 * Instead of the app while the administrator requires two-step sign-in of this user and
 * they have not set it up (every other API call is refused until then). `onEnrolled` runs
 * once the recovery codes are saved.
 */
export function TwoFactorRequiredView({ user, onEnrolled }: { user: User; onEnrolled: () => void }) {
  const [signingOut, setSigningOut] = useState(false);

  async function signOut() {
    if (signingOut) return;
    setSigningOut(true);
    await signOutHere(user.id);
    navigate('/login', { replace: true });
  }

  return (
    <AuthLayout title={t('twoFactor.required.title')} intro={t('twoFactor.required.intro')} wide>
      <TwoFactorSetup username={user.username} onDone={onEnrolled} />
      <div class="auth-signout">
        <span class="muted">{t('shell.signedInAs', { name: user.username })}</span>
        <Button variant="secondary" size="small" busy={signingOut} onClick={signOut}>
          {signingOut ? t('shell.signingOut') : t('shell.signOut')}
        </Button>
      </div>
    </AuthLayout>
  );
}
