import type { Channel } from '../api';
import { useStore } from '../chat/store';
import { t } from '../i18n';
import { useCalls } from './context';
import { PhoneIcon } from './icons';

/**
 * The call button of a conversation's header: call, join the ongoing call, or "in call".
 * `statusOnly` (a phone's header, where "Call" is in the "More" menu): nothing while no call is on.
 * `compact` (a phone's header): the icon and the count only, named by the aria-label, so the
 * "More" button beside it stays on screen ("Присоединиться 3" alone is wider than half a phone).
 */
export function CallButton({
  channel,
  title,
  statusOnly = false,
  compact = false,
}: {
  channel: Channel;
  title: string;
  statusOnly?: boolean;
  compact?: boolean;
}) {
  const calls = useCalls();
  const ongoing = useStore(calls.store, (s) => s.calls.get(channel.id));
  const here = useStore(calls.store, (s) => s.active?.channelId === channel.id);
  if (here) {
    return (
      <span
        class={compact ? 'call-here call-here-compact' : 'call-here'}
        data-testid="call-here"
        title={compact ? t('call.inCall') : undefined}
      >
        <PhoneIcon />
        <span class={compact ? 'visually-hidden' : undefined}>{t('call.inCall')}</span>
      </span>
    );
  }
  if (ongoing) {
    const n = new Set(ongoing.participants.map((p) => p.user_id)).size;
    return (
      <button
        type="button"
        class={compact ? 'btn btn-small call-join-btn call-join-compact' : 'btn btn-small call-join-btn'}
        aria-label={t('call.joinLabel', { n })}
        title={t('call.joinLabel', { n })}
        onClick={() => void calls.joinCall(ongoing.id, channel.id)}
      >
        <PhoneIcon />
        {!compact && t('call.join')}
        {n > 0 && <span class="call-join-count">{n}</span>}
      </button>
    );
  }
  if (channel.archived || statusOnly) return null;
  return (
    <button
      type="button"
      class="btn btn-ghost btn-small call-start-btn"
      aria-label={t('call.startLabel', { name: title })}
      title={t('call.startLabel', { name: title })}
      onClick={() => void calls.startCall(channel.id)}
    >
      <PhoneIcon />
      <span>{t('call.start')}</span>
    </button>
  );
}
