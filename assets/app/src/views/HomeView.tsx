import { useChat } from '../chat/client';
import { useStore } from '../chat/store';
import { Button } from '../components/Button';
import { Loading } from '../components/Loading';
import { PageHeading } from '../components/PageHeading';
import { t } from '../i18n';
import { useSession } from '../session';
import { openDialog } from './chat/ui';

/** Shown at "/" until the last (or first) channel opens, or when there is none yet. */
export function HomeView() {
  const { user } = useSession();
  const client = useChat();
  const ready = useStore(client.store, (s) => s.ready);
  const count = useStore(client.store, (s) => [...s.channels.values()].filter((c) => !c.archived).length);
  if (!ready || count > 0) return <Loading />;
  return (
    <div class="page page-pad">
      <PageHeading title={t('home.title', { name: user.display_name || user.username })} docTitle={t('app.name')} />
      <div class="empty-state">
        <p class="empty-state-title">{t('home.empty')}</p>
        <p>{t('home.emptyHint')}</p>
        <div class="button-row">
          <Button onClick={() => openDialog('browse')}>{t('sidebar.browse')}</Button>
          <Button variant="secondary" onClick={() => openDialog('create')}>
            {t('sidebar.create')}
          </Button>
          <Button variant="secondary" onClick={() => openDialog('direct')}>
            {t('sidebar.newDirect')}
          </Button>
        </div>
      </div>
    </div>
  );
}
