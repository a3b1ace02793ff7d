import { t } from './i18n';
import { useRoute } from './router';
import { useLocale } from './useLocale';
import { InviteView } from './views/InviteView';
import { LoginView } from './views/LoginView';
import { ResetPasswordView } from './views/ResetPasswordView';
import { SetupView } from './views/SetupView';
import { Shell } from './views/Shell';

/** Top-level component: picks the page for the current URL. */
export function App() {
  const route = useRoute();
  // A language chosen in the preferences applies at once.
  useLocale();
  let page;
  switch (route.name) {
    case 'login':
      page = <LoginView next={route.next} />;
      break;
    case 'setup':
      page = <SetupView key={route.token} token={route.token} />;
      break;
    case 'invite':
      page = <InviteView key={route.token} token={route.token} />;
      break;
    case 'reset':
      page = <ResetPasswordView key={route.token} token={route.token} />;
      break;
    default:
      page = <Shell route={route} />;
  }
  return (
    <>
      <a class="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      {page}
    </>
  );
}
