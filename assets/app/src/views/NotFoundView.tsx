import { Link } from '../components/Link';
import { PageHeading } from '../components/PageHeading';
import { t } from '../i18n';

export function NotFoundView() {
  return (
    <div class="page">
      <PageHeading title={t('notFound.title')} />
      <p>{t('notFound.text')}</p>
      <p>
        <Link href="/">{t('notFound.back')}</Link>
      </p>
    </div>
  );
}
