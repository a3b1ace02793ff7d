import { Link } from '../components/Link';
import { PageHeading } from '../components/PageHeading';
import { t } from '../i18n';
import { useSession } from '../session';

/** Placeholder for the channel view that arrives later. */
export function HomeView() {
  const { user } = useSession();
  return (
    <div class="page">
      <PageHeading
        title={t('home.title', { name: user.display_name || user.username })}
        docTitle={t('app.name')}
      />
      <div class="empty-state">
        <p class="empty-state-title">{t('home.placeholder')}</p>
        <p>
          {t('home.placeholderHint')} <Link href="/profile">{t('shell.profile')}</Link>
        </p>
      </div>
    </div>
  );
}
