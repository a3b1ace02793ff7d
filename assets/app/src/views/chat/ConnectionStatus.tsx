import { useChat } from '../../chat/client';
import { useStore } from '../../chat/store';
import { t } from '../../i18n';

/** The connection state, always visible in the top bar. */
export function ConnectionStatus() {
  const client = useChat();
  const connection = useStore(client.store, (s) => s.connection);
  const queued = useStore(client.store, (s) => s.outbox.filter((i) => i.state !== 'failed').length);
  const label =
    connection === 'connected'
      ? t('conn.connected')
      : connection === 'offline'
        ? t('conn.offline')
        : connection === 'reconnecting'
          ? t('conn.reconnecting')
          : t('conn.connecting');
  return (
    <div class={`conn conn-${connection}`} role="status" aria-live="polite" data-connection={connection} title={label}>
      <span class="conn-dot" aria-hidden="true" />
      <span class="conn-label">{label}</span>
      {queued > 0 && connection !== 'connected' && (
        <span class="conn-queued">{t('conn.queued', { n: queued })}</span>
      )}
      {connection === 'offline' && (
        <button type="button" class="conn-retry" onClick={() => client.reconnectNow()}>
          {t('conn.retry')}
        </button>
      )}
    </div>
  );
}
