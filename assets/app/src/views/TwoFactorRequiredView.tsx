import { useState } from 'preact/hooks';
import { NetworkError, api, type User } from '../api';
import { Alert } from '../components/Alert';
import { AuthLayout } from '../components/AuthLayout';
import { Button } from '../components/Button';
import { TwoFactorSetup } from '../components/TwoFactorSetup';
import { describeError } from '../errors';
import { t } from '../i18n';
import { navigate } from '../router';

/**
 * Instead of the app while the administrator requires two-step sign-in of this user and
 * they have not set it up (every other API call is refused until then). `onEnrolled` runs
 * once the recovery codes are saved.
 */
export function TwoFactorRequiredView({ user, onEnrolled }: { user: User; onEnrolled: () => void }) {
  const [signingOut, setSigningOut] = useState(false);
  const [signOutError, setSignOutError] = useState<string | null>(null);

  async function signOut() {
    setSigningOut(true);
    setSignOutError(null);
    try {
      await api.logout();
    } catch (err) {
      if (err instanceof NetworkError) {
        setSignOutError(describeError(err));
        setSigningOut(false);
        return;
      }
      // Any other answer (e.g. 401: already signed out) still ends here.
    }
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
      {signOutError && <Alert>{signOutError}</Alert>}
    </AuthLayout>
  );
}
