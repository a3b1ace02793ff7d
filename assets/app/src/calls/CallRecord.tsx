import type { Message } from '../api';
import { t } from '../i18n';
import { PhoneIcon } from './icons';
import { formatCallDuration, parseCallRecord } from './record';

/**
 * A call's record in its conversation ("Call · 2:14", "Missed call"), shown
 * as a notice rather than as text.
 */
export function CallRecordItem({
  message: m,
  nameOf,
  time,
  fullTime,
}: {
  message: Message;
  nameOf: (id: number | null) => string;
  time: string;
  fullTime: string;
}) {
  const record = parseCallRecord(m.body);
  const missed = record?.missed ?? false;
  const caller = nameOf(m.author_id);
  const text = missed ? t('call.record.missed') : t('call.record.call', { duration: formatCallDuration(record?.durationMs ?? 0) });
  const who = missed
    ? t('call.record.from', { name: caller })
    : record && record.participants.length
      ? record.participants.map((id) => nameOf(id)).join(', ')
      : t('call.record.startedBy', { name: caller });
  return (
    <div
      class={`msg msg-system msg-call${missed ? ' msg-call-missed' : ''}`}
      data-seq={m.seq}
      data-id={m.id}
      data-call-id={record?.callId}
      data-item
      tabIndex={-1}
    >
      <span class="msg-call-icon">
        <PhoneIcon />
      </span>
      <span class="msg-call-text">{text}</span>
      <span class="msg-call-who">{who}</span>
      <time class="msg-time" dateTime={new Date(m.created_at).toISOString()} title={fullTime}>
        {time}
      </time>
    </div>
  );
}
