import { useChat } from '../../chat/client';
import { useStore } from '../../chat/store';
import { t } from '../../i18n';
import { formatWhen } from './MessageItem';

/**
 * Says plainly that the server cannot be reached and that what is shown is the copy saved on
 * this device (what the user writes waits in the outbox), and how old it is. The top bar's dot
 * alone is easy to miss.
 */
export function OfflineBanner() {
  const client = useChat();
  const shown = useStore(client.store, (s) => s.cached || s.connection === 'offline');
  const syncedAt = useStore(client.store, (s) => s.syncedAt);
  return (
    // The live region is always there and only its content changes: screen readers announce a
    // region that fills, while one mounted together with its text is often not read at all.
    <div class="offline-status" role="status">
      {shown && (
        <div class="offline-banner" data-testid="offline-banner">
          <svg class="offline-banner-icon" width="18" height="18" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            <path d="M2 6.5a9 9 0 0 1 12 0M4.3 9a5.5 5.5 0 0 1 7.4 0M2 2l12 12" class="icon-stroke" />
            <circle cx="8" cy="12" r="1" class="icon-fill" />
          </svg>
          <p class="offline-banner-text">
            <strong>{t('offline.title')}</strong> {t('offline.text')}
            {syncedAt !== null && (
              <>
                {' '}
                <span class="offline-banner-age" data-synced-at={syncedAt}>
                  {t('offline.savedAt', { time: formatWhen(syncedAt) })}
                </span>
              </>
            )}
          </p>
        </div>
      )}
    </div>
  );
}
